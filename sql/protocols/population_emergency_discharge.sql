-- Protocol population: people discharged alive from an emergency spell in the $lookback_days days
-- up to the as-of date; each with that latest discharge.
CREATE OR REPLACE TEMP TABLE protocol_population AS
SELECT f.person_id, f.age, f.practice_code, f.cluster_code, max(s.discharge_date) AS discharge_date
FROM features.person_features AS f
JOIN registry.spells AS s USING (person_id)
WHERE s.is_emergency AND NOT coalesce(s.died_in_hospital, false)
  AND s.discharge_date <= $as_of
  AND s.discharge_date > CAST($as_of AS DATE) - $lookback_days
GROUP BY ALL;
