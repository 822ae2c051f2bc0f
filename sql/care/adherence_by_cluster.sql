-- care.adherence_by_cluster: each protocol step per practice cluster on the as-of date, summed
-- from the practices (counts, never averaged rates).
CREATE TABLE IF NOT EXISTS care.adherence_by_cluster (
    as_of DATE, protocol VARCHAR, protocol_version VARCHAR, step VARCHAR, step_title VARCHAR,
    cluster_code VARCHAR, applicable BIGINT, met BIGINT, due_soon BIGINT, not_met BIGINT,
    not_applicable BIGINT, pending BIGINT, met_rate DOUBLE
);
DELETE FROM care.adherence_by_cluster WHERE as_of = $as_of;
INSERT INTO care.adherence_by_cluster
SELECT as_of, protocol, protocol_version, step, step_title, cluster_code,
       sum(applicable), sum(met), sum(due_soon), sum(not_met), sum(not_applicable), sum(pending),
       sum(met) / nullif(sum(applicable), 0)
FROM care.adherence_by_practice
WHERE as_of = $as_of
GROUP BY ALL;
