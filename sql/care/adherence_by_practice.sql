-- care.adherence_by_practice: each protocol step per practice (and its cluster) on the as-of date.
-- met counts "met" and "due soon" (met but lapsing); pending (a deadline still to come) is in
-- neither the numerator nor the denominator.
CREATE TABLE IF NOT EXISTS care.adherence_by_practice (
    as_of DATE, protocol VARCHAR, protocol_version VARCHAR, step VARCHAR, step_title VARCHAR,
    step_order BIGINT, practice_code VARCHAR, cluster_code VARCHAR, applicable BIGINT, met BIGINT,
    due_soon BIGINT, not_met BIGINT, not_applicable BIGINT, pending BIGINT, met_rate DOUBLE
);
DELETE FROM care.adherence_by_practice WHERE as_of = $as_of;
INSERT INTO care.adherence_by_practice
SELECT
    as_of, protocol, protocol_version, step, step_title,
    min(rowid) AS step_order,
    practice_code, cluster_code,
    count(*) FILTER (WHERE status <> 'not_applicable' AND NOT pending) AS applicable,
    count(*) FILTER (WHERE status IN ('met', 'due_soon') AND NOT pending) AS met,
    count(*) FILTER (WHERE status = 'due_soon' AND NOT pending) AS due_soon,
    count(*) FILTER (WHERE status = 'not_met') AS not_met,
    count(*) FILTER (WHERE status = 'not_applicable') AS not_applicable,
    count(*) FILTER (WHERE pending) AS pending,
    (count(*) FILTER (WHERE status IN ('met', 'due_soon') AND NOT pending))
        / nullif(count(*) FILTER (WHERE status <> 'not_applicable' AND NOT pending), 0) AS met_rate
FROM care.adherence
WHERE as_of = $as_of
GROUP BY as_of, protocol, protocol_version, step, step_title, practice_code, cluster_code;
