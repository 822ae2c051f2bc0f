-- Protocol population: people on at least $value distinct repeat medicines (issued in 6 months).
CREATE OR REPLACE TEMP TABLE protocol_population AS
SELECT person_id, age, practice_code, cluster_code
FROM features.person_features
WHERE repeat_medicines >= $value;
