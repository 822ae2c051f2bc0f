-- registry.linkage_review: the clerical review queue. One row per identity the linkage could not
-- decide although a candidate is plausible: its best candidate clears the threshold but the
-- runner-up is too close, or the best is below the threshold but at least the review floor.
-- Shows the records it covers, the two best candidates with their scores and what agreed (never
-- the demographics themselves: a reviewer opens the records and the people by their ids). A
-- decision is recorded with `stratify resolve-link` in ops.linkage_resolutions and applied by
-- every later build.
CREATE OR REPLACE TABLE registry.linkage_review AS
WITH records AS (
    SELECT identity_key, count(*) AS records, min(feed) AS feed, min(source_row) AS source_row,
           string_agg(DISTINCT feed, ', ' ORDER BY feed) AS feeds
    FROM registry.linkage_candidates
    WHERE nhs_person_id IS NULL AND NOT nhs_number_valid
    GROUP BY identity_key
)
SELECT
    l.identity_key AS review_id,
    l.unlinked_reason AS reason,
    r.records,
    r.feeds,
    r.feed AS first_feed,
    r.source_row AS first_source_row,
    b.person_id AS candidate_1_person_id,
    b.match_probability AS candidate_1_probability,
    b.match_weight AS candidate_1_weight,
    b.agreement AS candidate_1_agreement,
    s.person_id AS candidate_2_person_id,
    s.match_probability AS candidate_2_probability,
    s.match_weight AS candidate_2_weight,
    s.agreement AS candidate_2_agreement
FROM registry.probabilistic_links AS l
JOIN records AS r USING (identity_key)
LEFT JOIN registry.linkage_scores AS b ON b.identity_key = l.identity_key AND b.rank = 1
LEFT JOIN registry.linkage_scores AS s ON s.identity_key = l.identity_key AND s.rank = 2
WHERE l.review
ORDER BY b.match_probability DESC, l.identity_key;
