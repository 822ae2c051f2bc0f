-- registry.events: one timeline across every setting, in a common shape ("care is care is care").
CREATE OR REPLACE TABLE registry.events AS
SELECT person_id, event_date, 'gp' AS setting, 'coded_entry' AS kind, snomed_code AS code,
       value, 'gp_events' AS source_feed, source_row
FROM registry.gp_events
UNION ALL
SELECT person_id, issue_date, 'gp', CASE WHEN is_repeat THEN 'repeat_issue' ELSE 'acute_issue' END,
       dmd_code, NULL, 'gp_medications', source_row
FROM registry.gp_medications
UNION ALL
SELECT person_id, admission_date, 'hospital',
       CASE WHEN is_emergency THEN 'emergency_admission'
            WHEN is_elective THEN 'elective_admission' ELSE 'other_admission' END,
       primary_diagnosis, length_of_stay, 'apc_spells', source_row
FROM registry.spells
UNION ALL
SELECT person_id, arrival_date, 'emergency_department', 'attendance', discharge_destination, NULL,
       'ecds_attendances', source_row
FROM registry.ae_attendances
UNION ALL
SELECT person_id, appointment_date, 'outpatients', attendance_status, treatment_function_code, NULL,
       'op_appointments', source_row
FROM registry.op_appointments
UNION ALL
SELECT person_id, contact_date, 'community', 'contact', service, NULL, 'community_contacts',
       source_row
FROM registry.community_contacts
UNION ALL
SELECT person_id, contact_date, 'mental_health', 'contact', service, NULL, 'mh_contacts', source_row
FROM registry.mh_contacts
UNION ALL
SELECT person_id, start_date, 'social_care', 'service_start', service_type, NULL,
       'social_care_services', source_row
FROM registry.social_care_episodes
-- Stored in person order so that one person's timeline reads a few row groups, not the table.
ORDER BY person_id, event_date, source_feed, source_row;
