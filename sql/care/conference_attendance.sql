-- Who attended one meeting (name, role, organisation: the pack's and the app's shape).
SELECT professional_name, professional_role, organisation
FROM ops.conference_attendance WHERE conference_id = $conference_id ORDER BY record_id;
