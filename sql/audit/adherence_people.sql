-- features.person_features reduced to what the protocol populations read (sql/protocols/
-- population_*.sql), from features.population, conditions and efi for one index date: the audit
-- evaluates adherence month by month without building the other features (utilisation,
-- observations, coverage) each month.
CREATE OR REPLACE TABLE features.person_features AS
SELECT p.person_id, p.index_date, p.age, p.practice_code, p.cluster_code,
       c.diabetes_type1, c.diabetes_type2, e.efi_deficits, e.efi, e.efi_category, e.repeat_medicines
FROM features.population AS p
JOIN features.conditions AS c USING (person_id)
JOIN features.efi AS e USING (person_id);
