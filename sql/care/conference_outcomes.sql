-- What one meeting decided per patient (identifiable: direct care).
SELECT c.meeting_date, o.person_id, p.given_name || ' ' || p.family_name AS patient_name, p.nhs_number,
       o.outcome, o.recorded_by
FROM ops.conference_outcomes AS o
JOIN ops.conferences AS c USING (conference_id)
JOIN registry.person AS p USING (person_id)
WHERE o.conference_id = $conference_id ORDER BY o.record_id;
