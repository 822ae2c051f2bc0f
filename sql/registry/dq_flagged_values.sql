-- registry.dq_flagged_values: values set to NULL at staging and why, per feed, column and check.
-- The rows stay in the registry; each defect is in staging.quarantine (severity 'flag'), which
-- joins any registry table on (feed, source_row).
CREATE OR REPLACE TABLE registry.dq_flagged_values AS
SELECT feed, column_name, check_name, count(*) AS rows, any_value(reason) AS example_reason
FROM staging.quarantine
WHERE severity = 'flag'
GROUP BY ALL
ORDER BY feed, rows DESC;
