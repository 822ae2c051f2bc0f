-- Step: a named care coordinator recorded on or before the as-of date.
CREATE OR REPLACE TEMP TABLE step_result AS
WITH latest AS (
    SELECT person_id, arg_max(coordinator_role, record_id) AS role,
           max(CAST(recorded_at AS DATE)) AS since
    FROM ops.coordinators
    WHERE CAST(recorded_at AS DATE) <= $as_of
    GROUP BY person_id
)
SELECT
    p.person_id,
    CASE WHEN l.person_id IS NULL THEN 'not_met' ELSE 'met' END AS status,
    l.since AS evidence_date,
    CASE WHEN l.person_id IS NOT NULL THEN 'named coordinator (' || l.role || ') since ' || l.since END AS evidence,
    CASE WHEN l.person_id IS NULL THEN 'no named coordinator recorded' END AS missing
FROM protocol_population AS p
LEFT JOIN latest AS l USING (person_id);
