-- registry.dq_unknown_codes: codes found in the feeds that are in none of the code lists.
CREATE OR REPLACE TABLE registry.dq_unknown_codes AS
SELECT 'gp_events' AS feed, 'snomed_ct' AS code_system, snomed_code AS code, count(*) AS rows
FROM registry.gp_events
WHERE snomed_code NOT IN (SELECT code FROM ref.codelists WHERE system = 'snomed_ct')
GROUP BY ALL
UNION ALL
SELECT 'apc_spells', 'icd10', primary_diagnosis, count(*)
FROM registry.spells
WHERE primary_diagnosis NOT IN (SELECT code FROM ref.codelists WHERE system = 'icd10')
  AND left(primary_diagnosis, 3) NOT IN (SELECT code FROM ref.codelists WHERE system = 'icd10')
GROUP BY ALL
UNION ALL
SELECT 'gp_medications', 'dmd', dmd_code, count(*)
FROM registry.gp_medications
WHERE dmd_code NOT IN (SELECT code FROM ref.codelists WHERE system = 'dmd')
GROUP BY ALL
ORDER BY feed, rows DESC;
