-- One published SPC series with the released figures beside it (commissioners).
SELECT s.month, s.title, s.direction, s.numerator, s.denominator, s.value, s.mean, s.lower, s.upper,
       s.special_cause, s.meaning, s.rules, s.variation, s.assurance, p.numerator_display,
       p.denominator_display
FROM audit.spc_published AS s
JOIN audit.published AS p USING (month, level, unit_code, measure)
WHERE s.measure = $measure AND s.level = $level AND s.unit_code = $unit ORDER BY s.month;
