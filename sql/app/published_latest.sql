-- The latest month's released figures per unit for chosen measures (commissioners).
SELECT level, unit_code, measure, title, numerator_display, denominator_display,
       round(value, 1) AS value
FROM audit.published
WHERE month = (SELECT max(month) FROM audit.published) AND list_contains($measures, measure)
ORDER BY CASE level WHEN 'system' THEN 0 WHEN 'cluster' THEN 1 ELSE 2 END, unit_code, measure;
