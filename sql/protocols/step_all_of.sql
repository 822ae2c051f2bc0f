-- Step: every one of the listed earlier steps met (due soon counts as met but makes the whole
-- due soon); not applicable only where every listed step is.
CREATE OR REPLACE TEMP TABLE step_result AS
SELECT
    person_id,
    CASE
        WHEN bool_and(status = 'not_applicable') THEN 'not_applicable'
        WHEN bool_or(status = 'not_met') THEN 'not_met'
        WHEN bool_or(status = 'due_soon') THEN 'due_soon'
        ELSE 'met'
    END AS status,
    max(evidence_date) AS evidence_date,
    count(*) FILTER (WHERE status IN ('met', 'due_soon')) || ' of ' || count(*) || ' met' AS evidence,
    CASE WHEN bool_or(status = 'not_met')
         THEN 'not met: ' || string_agg(step, ', ' ORDER BY step) FILTER (WHERE status = 'not_met') END AS missing
FROM care.adherence
WHERE as_of = $as_of AND protocol = $protocol AND list_contains($steps, step)
GROUP BY person_id;
