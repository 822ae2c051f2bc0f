-- audit.measures (practice level): protocol adherence as at $month_end, from care.adherence
-- (stratify.protocols.adherence run for that date): met (or due soon) over applicable, pending
-- steps left out of both.
INSERT INTO audit.measures
SELECT CAST($month_end AS DATE), 'practice', practice_code, protocol || '.' || step,
       count(*) FILTER (WHERE status IN ('met', 'due_soon') AND NOT pending),
       count(*) FILTER (WHERE status <> 'not_applicable' AND NOT pending), 100
FROM care.adherence WHERE as_of = $month_end
GROUP BY ALL;
