-- Whether a table the app reads has been made yet (an empty database shows a hint, not an error).
SELECT count(*) > 0 AS present FROM duckdb_tables()
WHERE schema_name = $schema AND table_name = $table;
