-- The recorded meeting of one cluster in one month, if any.
SELECT conference_id, meeting_date, recorded_by, recorded_at
FROM ops.conferences WHERE cluster_code = $cluster AND month = $month;
