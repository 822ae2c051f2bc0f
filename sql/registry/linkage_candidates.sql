-- registry.linkage_candidates: every accepted record of the feeds that may lack an NHS number,
-- with its normalised demographics and, where its NHS number is valid and registered, the person.
CREATE OR REPLACE TABLE registry.linkage_candidates AS
WITH records AS (
    SELECT 'community_contacts' AS feed, source_row, nhs_number, given_name, family_name,
           date_of_birth, sex, postcode
    FROM staging.community_contacts
    UNION ALL
    SELECT 'mh_contacts', source_row, nhs_number, given_name, family_name, date_of_birth, sex,
           postcode
    FROM staging.mh_contacts
    UNION ALL
    SELECT 'social_care_services', source_row, nhs_number, given_name, family_name,
           date_of_birth, sex, postcode
    FROM staging.social_care_services
),
normalised AS (
    SELECT
        *,
        nhs_number_valid(nhs_number) AS nhs_number_valid,
        name_key(given_name) AS given_key,
        name_key(family_name) AS family_key,
        postcode_key(postcode) AS postcode_key
    FROM records
)
SELECT
    n.feed,
    n.source_row,
    n.nhs_number_valid,
    p.person_id AS nhs_person_id,
    md5(concat_ws('|', n.given_key, n.family_key, n.date_of_birth, n.sex, n.postcode_key))
        AS identity_key,
    n.given_key,
    n.family_key,
    n.date_of_birth,
    n.sex,
    n.postcode_key
FROM normalised AS n
LEFT JOIN registry.person AS p
    ON n.nhs_number_valid AND p.nhs_number = n.nhs_number;
