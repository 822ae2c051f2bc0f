-- registry.social_care_episodes: adult social care service episodes, linked like the contacts.
CREATE OR REPLACE TABLE registry.social_care_episodes AS
SELECT
    l.person_id,
    l.link_method,
    s.episode_id,
    s.local_authority_code,
    s.service_type,
    s.start_date,
    s.end_date,
    s.service_type IN ('residential_care', 'nursing_care') AS is_care_home,
    s.source_row
FROM staging.social_care_services AS s
JOIN registry.record_links AS l ON l.feed = 'social_care_services' AND l.source_row = s.source_row;
