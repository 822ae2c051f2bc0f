-- features.efi: the electronic Frailty Index (Clegg et al. 2016) on the index date: 36 deficits,
-- 35 from the GP record before the index date (ref.efi_deficits maps deficits to code lists) and
-- polypharmacy (5 or more distinct repeat medicines issued in the 6 months before).
-- Categories: fit <= 0.12, mild <= 0.24, moderate <= 0.36, severe above.
CREATE OR REPLACE TABLE features.efi AS
WITH coded AS (
    SELECT DISTINCT e.person_id, d.deficit
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c ON c.code = e.snomed_code AND c.system = 'snomed_ct'
    JOIN ref.efi_deficits AS d ON d.list = c.list
    JOIN features.population AS p USING (person_id)
    WHERE e.event_date < $index_date
),
repeats AS (
    SELECT m.person_id, count(DISTINCT m.dmd_code) AS repeat_medicines
    FROM registry.gp_medications AS m
    JOIN features.population AS p USING (person_id)
    WHERE m.is_repeat
      AND m.issue_date < $index_date
      AND m.issue_date >= CAST($index_date AS DATE) - INTERVAL 6 MONTH
    GROUP BY m.person_id
),
counted AS (
    SELECT
        p.person_id,
        count(c.deficit) + CASE WHEN coalesce(r.repeat_medicines, 0) >= 5 THEN 1 ELSE 0 END
            AS efi_deficits,
        coalesce(r.repeat_medicines, 0) AS repeat_medicines
    FROM features.population AS p
    LEFT JOIN coded AS c USING (person_id)
    LEFT JOIN repeats AS r USING (person_id)
    GROUP BY p.person_id, r.repeat_medicines
)
SELECT
    person_id,
    efi_deficits,
    round(efi_deficits / 36.0, 4) AS efi,
    CASE
        WHEN efi_deficits / 36.0 <= 0.12 THEN 'fit'
        WHEN efi_deficits / 36.0 <= 0.24 THEN 'mild'
        WHEN efi_deficits / 36.0 <= 0.36 THEN 'moderate'
        ELSE 'severe'
    END AS efi_category,
    repeat_medicines
FROM counted;
