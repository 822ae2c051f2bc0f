-- registry.community_contacts: community services contacts, linked by NHS number or probabilistically.
CREATE OR REPLACE TABLE registry.community_contacts AS
SELECT
    l.person_id,
    l.link_method,
    c.contact_id,
    c.provider_code,
    c.contact_date,
    c.service,
    c.contact_type,
    c.source_row
FROM staging.community_contacts AS c
JOIN registry.record_links AS l ON l.feed = 'community_contacts' AND l.source_row = c.source_row;
