-- Months with a stored case-conference list for one cluster, newest first.
SELECT DISTINCT month FROM care.conference_list WHERE cluster_code = $cluster ORDER BY month DESC;
