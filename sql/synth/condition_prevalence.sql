-- Long-term condition prevalence on an index date, as the registry finds it (features.conditions:
-- gp_events joined to ref.codelists) and as the generator made it (truth_conditions), among the
-- same people: the registry's population on that date, matched to the truth by NHS number.
-- `diabetes` is type 1 or type 2. Needs features.conditions computed for $index_date and truth_conditions / truth_links registered.
WITH people AS (
    SELECT c.*, greatest(c.diabetes_type1, c.diabetes_type2) AS diabetes, l.person_id AS truth_id
    FROM features.conditions AS c
    JOIN registry.person AS p USING (person_id)
    JOIN staging.patients AS sp ON sp.nhs_number = p.nhs_number
    JOIN truth_links AS l ON l.row_number = sp.source_row
    QUALIFY row_number() OVER (PARTITION BY c.person_id ORDER BY sp.source_row) = 1
),
truth AS (
    SELECT DISTINCT person_id AS truth_id,
           CASE WHEN condition LIKE 'diabetes_type_' AND NOT flag THEN 'diabetes' ELSE condition END
               AS condition
    FROM truth_conditions, (VALUES (true), (false)) AS f(flag)
    WHERE onset_date < $index_date AND (flag OR condition LIKE 'diabetes_type_')
),
long AS (
    UNPIVOT people ON COLUMNS(* EXCLUDE (person_id, truth_id)) INTO NAME condition VALUE registry
)
SELECT
    l.condition,
    count(*) AS people,
    avg(l.registry) AS registry_prevalence,
    avg(CASE WHEN t.truth_id IS NULL THEN 0 ELSE 1 END) AS true_prevalence
FROM long AS l
LEFT JOIN truth AS t USING (truth_id, condition)
GROUP BY l.condition
ORDER BY l.condition;
