-- Step: a code from the step's lists recorded in the $window_days days up to the as-of date
-- (day $window_days counts, the day after does not). Due soon: met, but lapsing within
-- $due_soon_days days.
CREATE OR REPLACE TEMP TABLE step_result AS
WITH latest AS (
    SELECT e.person_id, max(e.event_date) AS last_date, arg_max(c.term, e.event_date) AS term
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c ON c.code = e.snomed_code AND list_contains($lists, c.list)
    JOIN protocol_population AS p USING (person_id)
    WHERE e.event_date <= $as_of
    GROUP BY e.person_id
)
SELECT
    p.person_id,
    CASE
        WHEN l.last_date IS NULL OR date_diff('day', l.last_date, CAST($as_of AS DATE)) > $window_days
            THEN 'not_met'
        WHEN date_diff('day', l.last_date, CAST($as_of AS DATE)) > $window_days - $due_soon_days
            THEN 'due_soon'
        ELSE 'met'
    END AS status,
    l.last_date AS evidence_date,
    CASE WHEN l.last_date IS NOT NULL THEN l.term || ' recorded ' || l.last_date END AS evidence,
    CASE
        WHEN l.last_date IS NULL THEN 'never recorded'
        WHEN date_diff('day', l.last_date, CAST($as_of AS DATE)) > $window_days
            THEN 'none in the last ' || $window_days || ' days'
    END AS missing
FROM protocol_population AS p
LEFT JOIN latest AS l USING (person_id);
