-- registry.person: one row per person registered with a practice (GP registration is the spine).
-- person_id is a pseudonym: dense, deterministic for the same feeds, never shown to commissioners.
CREATE OR REPLACE TABLE registry.person AS
SELECT
    row_number() OVER (ORDER BY p.nhs_number) AS person_id,
    p.nhs_number,
    p.given_name,
    p.family_name,
    p.date_of_birth,
    p.sex,
    p.ethnic_category,
    CASE
        WHEN p.ethnic_category IN ('A', 'B', 'C') THEN 'White'
        WHEN p.ethnic_category IN ('D', 'E', 'F', 'G') THEN 'Mixed'
        WHEN p.ethnic_category IN ('H', 'J', 'K', 'L', 'R') THEN 'Asian'
        WHEN p.ethnic_category IN ('M', 'N', 'P') THEN 'Black'
        WHEN p.ethnic_category = 'S' THEN 'Other'
        ELSE 'Not stated'
    END AS ethnic_group,
    p.postcode,
    p.lsoa_code,
    d.imd_decile,
    (d.imd_decile + 1) // 2 AS imd_quintile,
    p.practice_code,
    pr.practice_name,
    pr.cluster_code,
    pr.cluster_name,
    p.registration_date,
    p.deregistration_date,
    p.date_of_death,
    p.source_row
FROM staging.patients AS p
LEFT JOIN ref.deprivation AS d USING (lsoa_code)
LEFT JOIN ref.practices AS pr USING (practice_code);
