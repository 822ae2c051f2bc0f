-- Step: the latest value in the $window_days days up to the as-of date is at most $at_most.
CREATE OR REPLACE TEMP TABLE step_result AS
WITH latest AS (
    SELECT e.person_id, max(e.event_date) AS last_date, arg_max(e.value, e.event_date) AS value,
           arg_max(c.term, e.event_date) AS term
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c ON c.code = e.snomed_code AND list_contains($lists, c.list)
    JOIN protocol_population AS p USING (person_id)
    WHERE e.event_date <= $as_of AND e.value IS NOT NULL
      AND date_diff('day', e.event_date, CAST($as_of AS DATE)) <= $window_days
    GROUP BY e.person_id
)
SELECT
    p.person_id,
    CASE WHEN l.value IS NOT NULL AND l.value <= $at_most THEN 'met' ELSE 'not_met' END AS status,
    l.last_date AS evidence_date,
    CASE WHEN l.value IS NOT NULL
         THEN l.term || ' ' || l.value || ' ' || $unit || ' on ' || l.last_date END AS evidence,
    CASE
        WHEN l.value IS NULL THEN 'no value in the last ' || $window_days || ' days'
        WHEN l.value > $at_most THEN 'latest value ' || l.value || ' is above ' || $at_most
    END AS missing
FROM protocol_population AS p
LEFT JOIN latest AS l USING (person_id);
