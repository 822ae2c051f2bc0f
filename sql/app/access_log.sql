-- The latest entries of the access log (administrators).
SELECT accessed_at, username, role, action, page, cluster_code, person_id, detail
FROM ops.access_log ORDER BY record_id DESC LIMIT $limit;
