-- registry.mh_contacts: mental health contacts, linked by NHS number or probabilistically.
CREATE OR REPLACE TABLE registry.mh_contacts AS
SELECT
    l.person_id,
    l.link_method,
    c.contact_id,
    c.provider_code,
    c.contact_date,
    c.service,
    c.contact_type,
    c.source_row
FROM staging.mh_contacts AS c
JOIN registry.record_links AS l ON l.feed = 'mh_contacts' AND l.source_row = c.source_row;
