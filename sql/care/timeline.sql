-- patient_timeline (a query): one person's record across every setting in one shape, with the
-- team's own records (enrolment, coordinator, care plans, conference decisions) alongside.
WITH terms AS (SELECT code, any_value(term) AS term FROM ref.codelists GROUP BY code)
SELECT e.event_date, e.setting, e.kind,
       coalesce(t.term, e.code) || CASE WHEN e.value IS NOT NULL AND e.setting = 'gp'
                                        THEN ' ' || e.value ELSE '' END AS detail,
       e.source_feed AS source
FROM registry.events AS e
LEFT JOIN terms AS t ON t.code = e.code OR t.code = left(e.code, 3)
WHERE e.person_id = $person_id
UNION ALL
SELECT CAST(recorded_at AS DATE), 'care coordination', 'enrolment',
       action || coalesce(': ' || reason, '') || ' (by ' || recorded_by || ')', 'ops.enrolment'
FROM ops.enrolment WHERE person_id = $person_id
UNION ALL
SELECT CAST(recorded_at AS DATE), 'care coordination', 'named coordinator',
       coordinator_name || ', ' || coordinator_role || ', ' || organisation || '; accountable GP '
       || accountable_gp, 'ops.coordinators'
FROM ops.coordinators WHERE person_id = $person_id
UNION ALL
SELECT CAST(recorded_at AS DATE), 'care coordination', 'care plan v' || version,
       status || '; review by ' || review_date || coalesce('; ' || change_note, ''), 'ops.care_plans'
FROM ops.care_plans WHERE person_id = $person_id
UNION ALL
SELECT c.meeting_date, 'case conference', 'outcome', o.outcome, 'ops.conference_outcomes'
FROM ops.conference_outcomes AS o JOIN ops.conferences AS c USING (conference_id)
WHERE o.person_id = $person_id
UNION ALL
SELECT CAST(a.recorded_at AS DATE), 'case conference', 'action ' || a.status,
       a.description || ' (' || a.owner || ', ' || a.owner_role || ', due ' || a.due_date || ')',
       'ops.conference_actions'
FROM ops.conference_actions AS a WHERE a.person_id = $person_id
ORDER BY event_date, setting, detail;
