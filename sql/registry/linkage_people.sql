-- The registered people as linkage sees them, keyed on the NHS number (never the salted person
-- id, so that Splink's training sample is the same in every database), in a fixed order.
SELECT
    nhs_number AS unique_id,
    link_name(given_name) AS given_key,
    link_name(family_name) AS family_key,
    date_of_birth,
    sex,
    postcode_key(postcode) AS postcode_key
FROM registry.person
ORDER BY nhs_number
