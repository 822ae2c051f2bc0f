-- Step: a care plan in place (recorded here, or a care-plan code in the GP record) and reviewed or
-- agreed in the $window_days days up to the as-of date.
CREATE OR REPLACE TEMP TABLE step_result AS
WITH coded AS (
    SELECT e.person_id, c.list, max(e.event_date) AS last_date
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c ON c.code = e.snomed_code AND c.list IN ('care_plan', 'care_plan_review')
    JOIN protocol_population AS p USING (person_id)
    WHERE e.event_date <= $as_of
    GROUP BY ALL
),
recorded AS (  -- the latest version of each plan recorded by the team, as it stood on the as-of date
    SELECT person_id, arg_max(status, version) AS status, max(CAST(recorded_at AS DATE)) AS last_date
    FROM ops.care_plans
    WHERE CAST(recorded_at AS DATE) <= $as_of
    GROUP BY person_id, plan_id
),
plans AS (
    SELECT person_id, max(last_date) AS last_date, bool_or(true) AS in_place
    FROM (
        SELECT person_id, last_date FROM coded
        UNION ALL
        SELECT person_id, last_date FROM recorded WHERE status = 'active'
    )
    GROUP BY person_id
)
SELECT
    p.person_id,
    CASE
        WHEN pl.person_id IS NULL THEN 'not_met'
        WHEN date_diff('day', pl.last_date, CAST($as_of AS DATE)) > $window_days THEN 'not_met'
        ELSE 'met'
    END AS status,
    pl.last_date AS evidence_date,
    CASE WHEN pl.person_id IS NOT NULL THEN 'care plan agreed or reviewed ' || pl.last_date END AS evidence,
    CASE
        WHEN pl.person_id IS NULL THEN 'no care plan'
        WHEN date_diff('day', pl.last_date, CAST($as_of AS DATE)) > $window_days
            THEN 'care plan not reviewed in the last ' || $window_days || ' days'
    END AS missing
FROM protocol_population AS p
LEFT JOIN plans AS pl USING (person_id);
