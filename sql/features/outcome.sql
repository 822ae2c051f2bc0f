-- features.outcome: at least one emergency admission in the 12 months from the index date, and
-- death in those 12 months. Death is a competing event: someone who dies without an emergency
-- admission counts as no admission (the cumulative incidence a proactive-care team acts on).
CREATE OR REPLACE TABLE features.outcome AS
WITH d AS (SELECT CAST($index_date AS DATE) AS i)
SELECT
    p.person_id,
    CASE WHEN EXISTS (
        SELECT 1 FROM registry.spells AS s
        WHERE s.person_id = p.person_id AND s.is_emergency
          AND s.admission_date >= d.i AND s.admission_date < d.i + INTERVAL 12 MONTH
    ) THEN 1 ELSE 0 END AS emergency_admission_12m,
    CASE WHEN r.date_of_death >= d.i AND r.date_of_death < d.i + INTERVAL 12 MONTH
         THEN 1 ELSE 0 END AS died_12m
FROM features.population AS p
JOIN registry.person AS r USING (person_id), d;
