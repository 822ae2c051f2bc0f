-- Per practice and feed, the latest event date, as the build in this database left it.
SELECT practice_code, feed, latest_event_date
FROM registry.dq_latest_event_by_practice
ORDER BY practice_code, feed;
