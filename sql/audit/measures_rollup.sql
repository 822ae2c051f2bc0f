-- audit.measures at cluster and system level: numerators and denominators summed from the
-- practices (never averages of rates).
DELETE FROM audit.measures WHERE level IN ('cluster', 'system');
INSERT INTO audit.measures
SELECT m.month, 'cluster', p.cluster_code, m.measure, sum(m.numerator), sum(m.denominator), any_value(m.multiplier)
FROM audit.measures AS m JOIN ref.practices AS p ON p.practice_code = m.unit_code
WHERE m.level = 'practice'
GROUP BY m.month, p.cluster_code, m.measure
UNION ALL
SELECT month, 'system', 'system', measure, sum(numerator), sum(denominator), any_value(multiplier)
FROM audit.measures WHERE level = 'practice'
GROUP BY month, measure;
