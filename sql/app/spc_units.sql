-- The units (system, clusters, practices) with an unsuppressed SPC series for a measure.
SELECT DISTINCT level, unit_code FROM audit.spc WHERE measure = $measure
ORDER BY CASE level WHEN 'system' THEN 0 WHEN 'cluster' THEN 1 ELSE 2 END, unit_code;
