-- registry.dq_gate_metrics: per feed, the figures the next delivery is gated on (stratify/registry
-- /gates.py): rows read and accepted, and the people its accepted rows reach.
CREATE OR REPLACE TABLE registry.dq_gate_metrics AS
WITH people AS (
    SELECT 'patients' AS feed, count(*) AS people FROM registry.person
    UNION ALL
    SELECT source_feed, count(DISTINCT person_id)
    FROM registry.events
    WHERE person_id IS NOT NULL
    GROUP BY source_feed
)
SELECT f.feed, f.rows_read, f.rows_accepted, coalesce(p.people, 0) AS people
FROM staging.feed_loads AS f
LEFT JOIN people AS p USING (feed)
ORDER BY f.feed;
