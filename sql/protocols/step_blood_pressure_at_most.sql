-- Step: the latest blood pressure in the $window_days days up to the as-of date is at most
-- $systolic_at_most / $diastolic_at_most mmHg (both readings of the latest day).
CREATE OR REPLACE TEMP TABLE step_result AS
WITH readings AS (
    SELECT e.person_id, e.event_date, c.list, e.value
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c ON c.code = e.snomed_code AND c.list IN ('systolic_bp', 'diastolic_bp')
    JOIN protocol_population AS p USING (person_id)
    WHERE e.event_date <= $as_of AND e.value IS NOT NULL
      AND date_diff('day', e.event_date, CAST($as_of AS DATE)) <= $window_days
),
latest AS (
    SELECT person_id, max(event_date) AS last_date FROM readings GROUP BY person_id
),
bp AS (
    SELECT l.person_id, l.last_date,
           max(r.value) FILTER (WHERE r.list = 'systolic_bp') AS systolic,
           max(r.value) FILTER (WHERE r.list = 'diastolic_bp') AS diastolic
    FROM latest AS l JOIN readings AS r ON r.person_id = l.person_id AND r.event_date = l.last_date
    GROUP BY ALL
)
SELECT
    p.person_id,
    CASE WHEN b.systolic <= $systolic_at_most AND b.diastolic <= $diastolic_at_most
         THEN 'met' ELSE 'not_met' END AS status,
    b.last_date AS evidence_date,
    CASE WHEN b.last_date IS NOT NULL
         THEN 'blood pressure ' || coalesce(CAST(b.systolic AS INTEGER)::VARCHAR, '?') || '/'
              || coalesce(CAST(b.diastolic AS INTEGER)::VARCHAR, '?') || ' mmHg on ' || b.last_date END AS evidence,
    CASE
        WHEN b.last_date IS NULL THEN 'no blood pressure in the last ' || $window_days || ' days'
        WHEN b.systolic IS NULL OR b.diastolic IS NULL THEN 'latest reading incomplete'
        WHEN NOT (b.systolic <= $systolic_at_most AND b.diastolic <= $diastolic_at_most)
            THEN 'latest reading above ' || CAST($systolic_at_most AS INTEGER) || '/'
                 || CAST($diastolic_at_most AS INTEGER)
    END AS missing
FROM protocol_population AS p
LEFT JOIN bp AS b USING (person_id);
