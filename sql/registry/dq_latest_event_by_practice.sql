-- registry.dq_latest_event_by_practice: per practice and feed, the latest event and how many days
-- it lies before the data cut (late or missing submissions stand out).
CREATE OR REPLACE TABLE registry.dq_latest_event_by_practice AS
WITH latest AS (
    SELECT e.source_feed AS feed, p.practice_code, max(e.event_date) AS latest_event_date
    FROM registry.events AS e
    JOIN registry.person AS p USING (person_id)
    GROUP BY ALL
),
grid AS (
    SELECT pr.practice_code, f.feed
    FROM ref.practices AS pr
    CROSS JOIN (SELECT feed FROM staging.feed_loads WHERE feed <> 'patients') AS f
)
SELECT
    g.practice_code,
    g.feed,
    l.latest_event_date,
    date_diff('day', l.latest_event_date, b.data_cut) AS days_before_cut,
    CASE
        WHEN l.latest_event_date IS NULL THEN 'missing'
        WHEN date_diff('day', l.latest_event_date, b.data_cut) > 31 THEN 'late'
        ELSE 'current'
    END AS status
FROM grid AS g
CROSS JOIN registry.build_info AS b
LEFT JOIN latest AS l USING (practice_code, feed)
ORDER BY g.practice_code, g.feed;
