-- registry.dq_quarantine_reasons: quarantined and flagged rows per feed, check and column.
CREATE OR REPLACE TABLE registry.dq_quarantine_reasons AS
SELECT feed, severity, check_name, column_name, count(DISTINCT source_row) AS rows
FROM staging.quarantine
GROUP BY ALL
ORDER BY feed, severity, rows DESC;
