-- features.population: people registered and alive on the index date, with fixed attributes.
-- Everything here is known on the index date ($index_date).
CREATE OR REPLACE TABLE features.population AS
SELECT
    person_id,
    CAST($index_date AS DATE) AS index_date,
    date_diff('year', date_of_birth, CAST($index_date AS DATE))
        - CASE WHEN strftime(date_of_birth, '%m%d') > strftime(CAST($index_date AS DATE), '%m%d')
               THEN 1 ELSE 0 END AS age,
    CASE WHEN sex = 'F' THEN 1 ELSE 0 END AS female,
    imd_decile,
    imd_quintile,
    ethnic_group,
    practice_code,
    cluster_code
FROM registry.person
WHERE date_of_birth < $index_date
  AND registration_date < $index_date
  AND (deregistration_date IS NULL OR deregistration_date >= $index_date)
  AND (date_of_death IS NULL OR date_of_death >= $index_date);
