-- Who attended one meeting.
SELECT professional_name, professional_role, organisation, recorded_by, recorded_at
FROM ops.conference_attendance WHERE conference_id = $conference_id ORDER BY record_id;
