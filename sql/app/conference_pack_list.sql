-- Every column of one cluster's stored list for one month, for the pack (identifiable).
SELECT * EXCLUDE (cluster_code, month) FROM care.conference_list
WHERE cluster_code = $cluster AND month = $month ORDER BY list_order;
