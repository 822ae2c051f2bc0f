-- features.coverage: which feeds cover each person on the index date, so that "no data" is not
-- read as "none". A practice-level feed (community, mental health) covers a practice's patients
-- when that practice's registered patients have records from it in the 12 months before the index
-- date (the provider submitted data for the window). The GP feed covers a practice the same way,
-- and covers a person when they have any GP entry (coded event or issue) before the index date.
-- A record is incomplete when a feed is missing for the practice, or when the person has hospital
-- activity in the 24 months before and no GP record at all (a GP record that did not reach us).
CREATE OR REPLACE TABLE features.coverage AS
WITH d AS (SELECT CAST($index_date AS DATE) AS i),
gp_people AS (
    SELECT DISTINCT person_id FROM registry.gp_events, d WHERE event_date < d.i
    UNION
    SELECT DISTINCT person_id FROM registry.gp_medications, d WHERE issue_date < d.i
),
window_people AS (  -- (person, feed) with a record in the 12 months before the index date
    SELECT DISTINCT person_id, 'gp' AS feed FROM registry.gp_events, d
    WHERE event_date < d.i AND event_date >= d.i - INTERVAL 12 MONTH
    UNION
    SELECT DISTINCT person_id, 'community' FROM registry.community_contacts, d
    WHERE contact_date < d.i AND contact_date >= d.i - INTERVAL 12 MONTH
    UNION
    SELECT DISTINCT person_id, 'mental_health' FROM registry.mh_contacts, d
    WHERE contact_date < d.i AND contact_date >= d.i - INTERVAL 12 MONTH
),
practice_feeds AS (
    SELECT
        p.practice_code,
        bool_or(w.feed = 'gp') AS gp_feed,
        bool_or(w.feed = 'community') AS community_feed,
        bool_or(w.feed = 'mental_health') AS mental_health_feed
    FROM features.population AS p
    JOIN window_people AS w USING (person_id)
    GROUP BY p.practice_code
),
hospital AS (
    SELECT DISTINCT person_id FROM registry.spells, d
    WHERE admission_date < d.i AND admission_date >= d.i - INTERVAL 24 MONTH
    UNION
    SELECT DISTINCT person_id FROM registry.ae_attendances, d
    WHERE arrival_date < d.i AND arrival_date >= d.i - INTERVAL 24 MONTH
    UNION
    SELECT DISTINCT person_id FROM registry.op_appointments, d
    WHERE appointment_date < d.i AND appointment_date >= d.i - INTERVAL 24 MONTH
),
flags AS (
    SELECT
        p.person_id,
        coalesce(f.gp_feed, false) AS gp_feed,
        coalesce(f.community_feed, false) AS community_feed,
        coalesce(f.mental_health_feed, false) AS mental_health_feed,
        g.person_id IS NOT NULL AS gp_record,
        h.person_id IS NOT NULL AS hospital_activity
    FROM features.population AS p
    LEFT JOIN practice_feeds AS f USING (practice_code)
    LEFT JOIN gp_people AS g USING (person_id)
    LEFT JOIN hospital AS h USING (person_id)
)
SELECT
    person_id,
    gp_feed,
    community_feed,
    mental_health_feed,
    gp_record,
    NOT gp_feed OR NOT community_feed OR NOT mental_health_feed
        OR (hospital_activity AND NOT gp_record) AS incomplete_record,
    nullif(concat_ws('; ',
        CASE WHEN NOT gp_feed THEN 'no GP data from this practice'
             WHEN hospital_activity AND NOT gp_record THEN 'hospital activity but no GP record' END,
        CASE WHEN NOT community_feed THEN 'no community data for this practice' END,
        CASE WHEN NOT mental_health_feed THEN 'no mental health data for this practice' END
    ), '') AS incomplete_because
FROM flags;
