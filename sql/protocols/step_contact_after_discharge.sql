-- Step: contact by the practice (a code from the step's lists) or by community services within
-- $working_days working days of the latest emergency discharge. Working days come from
-- protocol_calendar (weekends and bank holidays excluded); a contact on the day of discharge
-- counts. Due soon: no contact yet and the deadline has not passed.
CREATE OR REPLACE TEMP TABLE step_result AS
WITH contacts AS (
    SELECT e.person_id, e.event_date AS day, 'practice' AS by_whom
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c ON c.code = e.snomed_code AND list_contains($lists, c.list)
    JOIN protocol_population AS p ON p.person_id = e.person_id
        AND e.event_date >= p.discharge_date AND e.event_date <= $as_of
    UNION ALL
    SELECT k.person_id, k.contact_date, 'community team'
    FROM registry.community_contacts AS k
    JOIN protocol_population AS p ON p.person_id = k.person_id
        AND k.contact_date >= p.discharge_date AND k.contact_date <= $as_of
),
first_contact AS (
    SELECT person_id, min(day) AS day, arg_min(by_whom, day) AS by_whom FROM contacts GROUP BY person_id
),
timed AS (
    SELECT
        p.person_id,
        p.discharge_date,
        f.day,
        f.by_whom,
        cf.working_index - cd.working_index AS working_days_to_contact,
        ca.working_index - cd.working_index AS working_days_so_far
    FROM protocol_population AS p
    JOIN protocol_calendar AS cd ON cd.day = p.discharge_date
    JOIN protocol_calendar AS ca ON ca.day = CAST($as_of AS DATE)
    LEFT JOIN first_contact AS f USING (person_id)
    LEFT JOIN protocol_calendar AS cf ON cf.day = f.day
)
SELECT
    person_id,
    CASE
        WHEN day IS NOT NULL AND working_days_to_contact <= $working_days THEN 'met'
        WHEN day IS NULL AND working_days_so_far <= $working_days THEN 'due_soon'
        ELSE 'not_met'
    END AS status,
    coalesce(day, discharge_date) AS evidence_date,
    CASE WHEN day IS NOT NULL
         THEN 'discharged ' || discharge_date || '; contacted by the ' || by_whom || ' on ' || day
              || ' (' || working_days_to_contact || ' working days)' END AS evidence,
    CASE
        WHEN day IS NULL AND working_days_so_far <= $working_days
            THEN 'discharged ' || discharge_date || '; no contact yet, due within '
                 || $working_days || ' working days'
        WHEN day IS NULL THEN 'discharged ' || discharge_date || '; no contact recorded'
        WHEN working_days_to_contact > $working_days
            THEN 'contact after ' || working_days_to_contact || ' working days'
    END AS missing
FROM timed;
