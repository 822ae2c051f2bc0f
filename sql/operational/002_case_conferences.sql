-- Case conferences: the meeting, who came, what was decided per patient, and the actions agreed.
-- Append-only like every operational table; an action's progress is a new row with its action_id.
CREATE TABLE IF NOT EXISTS ops.conferences (
    conference_id VARCHAR PRIMARY KEY,
    cluster_code VARCHAR NOT NULL,
    month VARCHAR NOT NULL CHECK (regexp_full_match(month, '[0-9]{4}-(0[1-9]|1[0-2])')),
    meeting_date DATE NOT NULL,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS ops.conference_attendance (
    record_id BIGINT PRIMARY KEY DEFAULT nextval('ops.record_id'),
    conference_id VARCHAR NOT NULL,
    professional_name VARCHAR NOT NULL,
    professional_role VARCHAR NOT NULL,
    organisation VARCHAR NOT NULL,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS ops.conference_outcomes (
    record_id BIGINT PRIMARY KEY DEFAULT nextval('ops.record_id'),
    conference_id VARCHAR NOT NULL,
    person_id BIGINT NOT NULL,
    outcome VARCHAR NOT NULL,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS ops.conference_actions (
    record_id BIGINT PRIMARY KEY DEFAULT nextval('ops.record_id'),
    action_id VARCHAR NOT NULL,
    conference_id VARCHAR NOT NULL,
    person_id BIGINT NOT NULL,
    description VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    owner_role VARCHAR NOT NULL,
    due_date DATE NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
