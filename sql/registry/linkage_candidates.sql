-- registry.linkage_candidates: every accepted record of the feeds that may lack an NHS number,
-- with its normalised demographics and, where its NHS number is valid and registered, the person.
-- Any demographic may be missing (NULL): the record is linked on what it has.

-- Names as linkage compares them: upper case, accents, apostrophes and dots removed, anything
-- else that is not a letter (hyphen, several spaces) as one space; empty means missing.
CREATE OR REPLACE TEMP MACRO link_name(x) AS
    nullif(trim(regexp_replace(
        regexp_replace(strip_accents(upper(x)), '[''.`]', '', 'g'), '[^A-Z]+', ' ', 'g'
    )), '');

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
        link_name(given_name) AS given_key,
        link_name(family_name) AS family_key,
        postcode_key(postcode) AS postcode_key
    FROM records
)
SELECT
    n.feed,
    n.source_row,
    n.nhs_number_valid,
    p.person_id AS nhs_person_id,
    -- '~' marks a missing value, so that a missing given name and a missing family name differ.
    md5(concat_ws('|', coalesce(n.given_key, '~'), coalesce(n.family_key, '~'),
        coalesce(CAST(n.date_of_birth AS VARCHAR), '~'), coalesce(n.sex, '~'),
        coalesce(n.postcode_key, '~'))) AS identity_key,
    n.given_key,
    n.family_key,
    n.date_of_birth,
    n.sex,
    n.postcode_key
FROM normalised AS n
LEFT JOIN registry.person AS p
    ON n.nhs_number_valid AND p.nhs_number = n.nhs_number;
