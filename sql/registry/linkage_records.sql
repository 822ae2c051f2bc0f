-- The distinct identities among records that need probabilistic linkage (no valid registered
-- NHS number), one row each, in a fixed order.
SELECT
    identity_key AS unique_id,
    any_value(given_key) AS given_key,
    any_value(family_key) AS family_key,
    any_value(date_of_birth) AS date_of_birth,
    any_value(sex) AS sex,
    any_value(postcode_key) AS postcode_key
FROM registry.linkage_candidates
WHERE nhs_person_id IS NULL AND NOT nhs_number_valid
GROUP BY identity_key
ORDER BY identity_key
