-- Practices on one proportion from the published figures only (commissioners).
SELECT f.unit, f.numerator, f.denominator, f.rate, f.z, f.lower_95, f.upper_95, f.position_95,
       f.lower_998, f.upper_998, f.position_998, f.month, f.measure, f.title, f.theta, f.phi,
       f.adjusted, p.numerator_display, p.denominator_display
FROM audit.funnel_published AS f
JOIN audit.published AS p
  ON p.month = f.month AND p.level = 'practice' AND p.unit_code = f.unit AND p.measure = f.measure
WHERE f.measure = $measure ORDER BY f.unit;
