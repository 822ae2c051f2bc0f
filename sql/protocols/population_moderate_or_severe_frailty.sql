-- Protocol population: moderate or severe frailty by the eFI on the as-of date.
CREATE OR REPLACE TEMP TABLE protocol_population AS
SELECT person_id, age, practice_code, cluster_code
FROM features.person_features
WHERE efi_category IN ('moderate', 'severe');
