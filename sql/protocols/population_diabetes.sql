-- Protocol population: type 1 or type 2 diabetes on the GP register on the as-of date.
CREATE OR REPLACE TEMP TABLE protocol_population AS
SELECT person_id, age, practice_code, cluster_code
FROM features.person_features
WHERE diabetes_type1 + diabetes_type2 > 0;
