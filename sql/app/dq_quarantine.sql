-- Why rows were quarantined or flagged, per feed and check.
SELECT feed, severity, check_name, column_name, rows FROM registry.dq_quarantine_reasons
ORDER BY rows DESC;
