-- Practice clusters and their practices, for choosers and for checking a cluster exists.
SELECT cluster_code, any_value(cluster_name) AS cluster_name, count(*) AS practices
FROM ref.practices GROUP BY cluster_code ORDER BY cluster_code;
