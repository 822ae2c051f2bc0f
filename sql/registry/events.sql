-- registry.events: one timeline across every setting, in a common shape ("care is care is care").
-- Each source is read in person order, so one person's events sit in a few row groups per source
-- and a timeline lookup skips the rest (one sort of the whole union would not fit the build's
-- memory limit at a million people).
CREATE OR REPLACE TABLE registry.events AS
SELECT person_id, event_date, 'gp' AS setting, 'coded_entry' AS kind, snomed_code AS code,
       value, 'gp_events' AS source_feed, source_row
FROM (SELECT * FROM registry.gp_events ORDER BY person_id)
UNION ALL
SELECT person_id, issue_date, 'gp', CASE WHEN is_repeat THEN 'repeat_issue' ELSE 'acute_issue' END,
       dmd_code, NULL, 'gp_medications', source_row
FROM (SELECT * FROM registry.gp_medications ORDER BY person_id)
UNION ALL
SELECT person_id, admission_date, 'hospital',
       CASE WHEN is_emergency THEN 'emergency_admission'
            WHEN is_elective THEN 'elective_admission' ELSE 'other_admission' END,
       primary_diagnosis, length_of_stay, 'apc_spells', source_row
FROM (SELECT * FROM registry.spells ORDER BY person_id)
UNION ALL
SELECT person_id, arrival_date, 'emergency_department', 'attendance', discharge_destination, NULL,
       'ecds_attendances', source_row
FROM (SELECT * FROM registry.ae_attendances ORDER BY person_id)
UNION ALL
SELECT person_id, appointment_date, 'outpatients', attendance_status, treatment_function_code, NULL,
       'op_appointments', source_row
FROM (SELECT * FROM registry.op_appointments ORDER BY person_id)
UNION ALL
SELECT person_id, contact_date, 'community', 'contact', service, NULL, 'community_contacts',
       source_row
FROM (SELECT * FROM registry.community_contacts ORDER BY person_id)
UNION ALL
SELECT person_id, contact_date, 'mental_health', 'contact', service, NULL, 'mh_contacts', source_row
FROM (SELECT * FROM registry.mh_contacts ORDER BY person_id)
UNION ALL
SELECT person_id, start_date, 'social_care', 'service_start', service_type, NULL,
       'social_care_services', source_row
FROM (SELECT * FROM registry.social_care_episodes ORDER BY person_id);
