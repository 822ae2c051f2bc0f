-- The units with a published (suppressed, rounded) SPC series for a measure: commissioners.
SELECT DISTINCT level, unit_code FROM audit.spc_published WHERE measure = $measure
ORDER BY CASE level WHEN 'system' THEN 0 WHEN 'cluster' THEN 1 ELSE 2 END, unit_code;
