-- Clerical review of linkage: a data-quality lead's decision on a record the linkage could not
-- decide (registry.linkage_review). Append-only like every operational table: a later decision
-- for the same identity supersedes an earlier one; every build applies the latest.
-- identity_key is the hash of the record's normalised demographics (registry.linkage_candidates),
-- so a decision follows the same identity into every later delivery.
CREATE SEQUENCE IF NOT EXISTS ops.record_id;

CREATE TABLE IF NOT EXISTS ops.linkage_resolutions (
    record_id BIGINT PRIMARY KEY DEFAULT nextval('ops.record_id'),
    identity_key VARCHAR NOT NULL,
    decision VARCHAR NOT NULL CHECK (decision IN ('link', 'no_match')),
    person_id BIGINT,
    reason VARCHAR,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    CHECK ((decision = 'link') = (person_id IS NOT NULL))
);
