-- registry.person: one row per person registered with a practice (GP registration is the spine).
-- person_id is a pseudonym kept in meta.person_keys: stable across rebuilds (a person keeps it
-- while their NHS number stays), given to newcomers in an order salted per database, so it
-- cannot be worked back from NHS numbers. Never shown to commissioners. Linkage never sees the
-- salted id (it keys people on the NHS number), so the same feeds give the same links in every
-- database; compare two databases' links person by NHS number, not by person_id.
CREATE TABLE IF NOT EXISTS meta.settings (name VARCHAR PRIMARY KEY, value VARCHAR);
INSERT INTO meta.settings
SELECT 'person_key_salt', md5(CAST(uuid() AS VARCHAR))
WHERE NOT EXISTS (SELECT 1 FROM meta.settings WHERE name = 'person_key_salt');
CREATE TABLE IF NOT EXISTS meta.person_keys (nhs_number VARCHAR PRIMARY KEY, person_id BIGINT UNIQUE);
INSERT INTO meta.person_keys
SELECT
    p.nhs_number,
    (SELECT coalesce(max(person_id), 0) FROM meta.person_keys)
        + row_number() OVER (ORDER BY md5(p.nhs_number || s.value)) AS person_id
FROM staging.patients AS p
CROSS JOIN (SELECT value FROM meta.settings WHERE name = 'person_key_salt') AS s
WHERE p.nhs_number NOT IN (SELECT nhs_number FROM meta.person_keys);

CREATE OR REPLACE TABLE registry.person AS
SELECT
    k.person_id,
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
JOIN meta.person_keys AS k USING (nhs_number)
LEFT JOIN ref.deprivation AS d USING (lsoa_code)
LEFT JOIN ref.practices AS pr USING (practice_code);
