-- Operational tables written by people: enrolment, named coordinators, care plans.
-- Append-only: every change is a new row with who and when; nothing is updated or deleted.
-- Keyed on person_id, the registry's stable pseudonym (meta.person_keys).
CREATE SEQUENCE IF NOT EXISTS ops.record_id;

CREATE TABLE IF NOT EXISTS ops.enrolment (
    record_id BIGINT PRIMARY KEY DEFAULT nextval('ops.record_id'),
    person_id BIGINT NOT NULL,
    action VARCHAR NOT NULL CHECK (action IN ('enrolled', 'declined', 'deferred', 'withdrawn')),
    reason VARCHAR,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    CHECK (action NOT IN ('declined', 'deferred', 'withdrawn') OR reason IS NOT NULL)
);

CREATE TABLE IF NOT EXISTS ops.coordinators (
    record_id BIGINT PRIMARY KEY DEFAULT nextval('ops.record_id'),
    person_id BIGINT NOT NULL,
    coordinator_name VARCHAR NOT NULL,
    coordinator_role VARCHAR NOT NULL,
    organisation VARCHAR NOT NULL,
    accountable_gp VARCHAR NOT NULL,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS ops.care_plans (
    record_id BIGINT PRIMARY KEY DEFAULT nextval('ops.record_id'),
    plan_id VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    person_id BIGINT NOT NULL,
    goals JSON NOT NULL,
    actions JSON NOT NULL,
    preferences VARCHAR,
    family_involved BOOLEAN NOT NULL,
    carer_involved BOOLEAN NOT NULL,
    review_date DATE NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('active', 'closed')),
    change_note VARCHAR,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (plan_id, version)
);
