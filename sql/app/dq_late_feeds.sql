-- Feeds whose latest event for a practice is well before the data cut.
SELECT practice_code, feed, latest_event_date, days_before_cut, status
FROM registry.dq_latest_event_by_practice WHERE status <> 'current'
ORDER BY days_before_cut DESC, practice_code, feed;
