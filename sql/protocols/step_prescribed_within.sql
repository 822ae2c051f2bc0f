-- Step: a medicine from the step's lists issued in the $window_days days up to the as-of date,
-- for people aged $applies_from_age or over (younger people: not applicable).
CREATE OR REPLACE TEMP TABLE step_result AS
WITH latest AS (
    SELECT m.person_id, max(m.issue_date) AS last_date, arg_max(m.description, m.issue_date) AS what
    FROM registry.gp_medications AS m
    JOIN ref.codelists AS c ON c.code = m.dmd_code AND list_contains($lists, c.list)
    JOIN protocol_population AS p USING (person_id)
    WHERE m.issue_date <= $as_of AND date_diff('day', m.issue_date, CAST($as_of AS DATE)) <= $window_days
    GROUP BY m.person_id
)
SELECT
    p.person_id,
    CASE
        WHEN p.age < $applies_from_age THEN 'not_applicable'
        WHEN l.last_date IS NOT NULL THEN 'met'
        ELSE 'not_met'
    END AS status,
    l.last_date AS evidence_date,
    CASE WHEN l.last_date IS NOT NULL THEN l.what || ' issued ' || l.last_date END AS evidence,
    CASE
        WHEN p.age < $applies_from_age THEN 'not indicated under ' || $applies_from_age
        WHEN l.last_date IS NULL THEN 'none issued in the last ' || $window_days || ' days'
    END AS missing
FROM protocol_population AS p
LEFT JOIN latest AS l USING (person_id);
