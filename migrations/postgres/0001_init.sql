-- Jarvis store, PostgreSQL flavour: the same tables as the SQLite schema.
-- Identifiers are UUID text; instants are RFC 3339 UTC text with exactly nine
-- fractional digits ("2026-03-01T12:00:00.123456789Z"), so text order is time
-- order and values round-trip without loss (TIMESTAMPTZ would keep only
-- microseconds). Ordered text columns use the "C" collation so order is byte
-- order on every server locale. Nested values are JSON text.

-- One webhook delivery: the payload as received, shared by its alerts.
CREATE TABLE deliveries (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    received_at TEXT COLLATE "C" NOT NULL,
    raw         TEXT COLLATE "C"
);

CREATE TABLE alerts (
    id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    fingerprint    TEXT COLLATE "C" NOT NULL,
    starts_at      TEXT COLLATE "C" NOT NULL,
    status         TEXT COLLATE "C" NOT NULL CHECK (status IN ('firing', 'resolved')),
    alert_name     TEXT COLLATE "C" NOT NULL,
    key_alert_name TEXT COLLATE "C" NOT NULL,
    key_target     TEXT COLLATE "C" NOT NULL,
    alert          TEXT COLLATE "C" NOT NULL,
    delivery_id    TEXT COLLATE "C",
    received_at    TEXT COLLATE "C" NOT NULL,
    incident_id    TEXT COLLATE "C",
    processed_at   TEXT COLLATE "C",
    -- Idempotent ingest: a redelivery hits this key and is ignored.
    UNIQUE (fingerprint, starts_at, status)
);
CREATE INDEX alerts_unprocessed_resolutions ON alerts (received_at, id)
    WHERE status = 'resolved' AND processed_at IS NULL;
CREATE INDEX alerts_incident ON alerts (incident_id);
CREATE INDEX alerts_received_at ON alerts (received_at);
CREATE INDEX alerts_delivery ON alerts (delivery_id);

CREATE TABLE incidents (
    id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    alert_id       TEXT COLLATE "C" NOT NULL,
    fingerprint    TEXT COLLATE "C" NOT NULL,
    alert_name     TEXT COLLATE "C" NOT NULL,
    key_alert_name TEXT COLLATE "C" NOT NULL,
    key_target     TEXT COLLATE "C" NOT NULL,
    labels         TEXT COLLATE "C" NOT NULL,
    state          TEXT COLLATE "C" NOT NULL,
    reason         TEXT COLLATE "C" NOT NULL,
    root_id        TEXT COLLATE "C",
    attempts       BIGINT NOT NULL DEFAULT 0,
    lease_owner    TEXT COLLATE "C",
    lease_until    TEXT COLLATE "C",
    created_at     TEXT COLLATE "C" NOT NULL,
    updated_at     TEXT COLLATE "C" NOT NULL
);
CREATE INDEX incidents_created ON incidents (created_at, id);
CREATE INDEX incidents_state ON incidents (state, created_at, id);
CREATE INDEX incidents_alert_name ON incidents (alert_name, created_at, id);
CREATE INDEX incidents_fingerprint ON incidents (fingerprint, created_at, id);
CREATE INDEX incidents_terminal_age ON incidents (updated_at)
    WHERE state IN ('duplicate', 'in_maintenance', 'host_offline', 'resolved', 'unverified', 'escalated', 'closed');

CREATE TABLE transitions (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id TEXT COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    from_state  TEXT COLLATE "C" NOT NULL,
    to_state    TEXT COLLATE "C" NOT NULL,
    reason      TEXT COLLATE "C" NOT NULL,
    at          TEXT COLLATE "C" NOT NULL
);
CREATE INDEX transitions_incident ON transitions (incident_id, at, seq);

CREATE TABLE attempts (
    id                  TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    incident_id         TEXT COLLATE "C" NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    key_alert_name      TEXT COLLATE "C" NOT NULL,
    key_target          TEXT COLLATE "C" NOT NULL,
    tier                TEXT COLLATE "C" NOT NULL,
    plan                TEXT COLLATE "C" NOT NULL,
    steps               TEXT COLLATE "C" NOT NULL,
    verification        TEXT COLLATE "C",
    outcome             TEXT COLLATE "C" NOT NULL,
    outcome_detail      TEXT COLLATE "C" NOT NULL,
    llm_calls           BIGINT NOT NULL,
    input_tokens        BIGINT NOT NULL,
    output_tokens       BIGINT NOT NULL,
    iterations          BIGINT NOT NULL,
    counts_toward_limit BOOLEAN NOT NULL,
    started_at          TEXT COLLATE "C" NOT NULL,
    finished_at         TEXT COLLATE "C" NOT NULL,
    cleared_at          TEXT COLLATE "C"
);
CREATE INDEX attempts_incident ON attempts (incident_id, started_at, id);
CREATE INDEX attempts_uncleared_key ON attempts (key_alert_name, key_target, started_at, id)
    WHERE cleared_at IS NULL;

CREATE TABLE escalations (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_alert_name TEXT COLLATE "C" NOT NULL,
    key_target     TEXT COLLATE "C" NOT NULL,
    incident_id    TEXT COLLATE "C" NOT NULL,
    at             TEXT COLLATE "C" NOT NULL
);
CREATE INDEX escalations_key ON escalations (key_alert_name, key_target, at);

CREATE TABLE patterns (
    id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    signature      TEXT COLLATE "C" NOT NULL,
    plan_signature TEXT COLLATE "C" NOT NULL,
    alert_name     TEXT COLLATE "C" NOT NULL,
    symptom        TEXT COLLATE "C" NOT NULL,
    steps          TEXT COLLATE "C" NOT NULL,
    successes      BIGINT NOT NULL,
    failures       BIGINT NOT NULL,
    source         TEXT COLLATE "C" NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    last_used      TEXT COLLATE "C",
    UNIQUE (signature, plan_signature)
);
CREATE INDEX patterns_created ON patterns (created_at, id);

CREATE TABLE failure_patterns (
    signature      TEXT COLLATE "C" NOT NULL,
    plan_signature TEXT COLLATE "C" NOT NULL,
    summary        TEXT COLLATE "C" NOT NULL,
    failures       BIGINT NOT NULL,
    reason         TEXT COLLATE "C" NOT NULL,
    last_failed_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (signature, plan_signature)
);
CREATE INDEX failure_patterns_recent ON failure_patterns (signature, last_failed_at);

CREATE TABLE maintenance_windows (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    scope      TEXT COLLATE "C" NOT NULL,
    reason     TEXT COLLATE "C" NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL,
    starts_at  TEXT COLLATE "C" NOT NULL,
    ends_at    TEXT COLLATE "C" NOT NULL,
    ended_at   TEXT COLLATE "C"
);
CREATE INDEX maintenance_windows_ends ON maintenance_windows (ends_at);

CREATE TABLE approvals (
    id           TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    incident_id  TEXT COLLATE "C" NOT NULL,
    step         TEXT COLLATE "C" NOT NULL,
    rule         TEXT COLLATE "C" NOT NULL,
    reason       TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL,
    requested_at TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C" NOT NULL,
    decided_by   TEXT COLLATE "C",
    decided_at   TEXT COLLATE "C"
);
CREATE INDEX approvals_status ON approvals (status, requested_at, id);
CREATE INDEX approvals_requested ON approvals (requested_at, id);
CREATE INDEX approvals_incident ON approvals (incident_id);

CREATE TABLE host_status (
    seq    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host   TEXT COLLATE "C" NOT NULL,
    online BOOLEAN NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    at     TEXT COLLATE "C" NOT NULL
);
CREATE INDEX host_status_latest ON host_status (host, at, seq);

CREATE TABLE handoffs (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    target      TEXT COLLATE "C" NOT NULL,
    incident_id TEXT COLLATE "C",
    state       TEXT COLLATE "C" NOT NULL,
    reason      TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX handoffs_state ON handoffs (state, created_at, id);
CREATE INDEX handoffs_created ON handoffs (created_at, id);

CREATE TABLE snapshots (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id TEXT COLLATE "C" NOT NULL,
    host        TEXT COLLATE "C" NOT NULL,
    label       TEXT COLLATE "C" NOT NULL,
    content     TEXT COLLATE "C" NOT NULL,
    at          TEXT COLLATE "C" NOT NULL
);
CREATE INDEX snapshots_incident ON snapshots (incident_id, at, seq);

CREATE TABLE anomalies (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series            TEXT COLLATE "C" NOT NULL,
    value             DOUBLE PRECISION NOT NULL,
    mean              DOUBLE PRECISION NOT NULL,
    z_score           DOUBLE PRECISION NOT NULL,
    at                TEXT COLLATE "C" NOT NULL,
    alert_fingerprint TEXT COLLATE "C"
);
CREATE INDEX anomalies_at ON anomalies (at, seq);

CREATE TABLE notices (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id TEXT COLLATE "C",
    kind        TEXT COLLATE "C" NOT NULL,
    at          TEXT COLLATE "C" NOT NULL,
    notice      TEXT COLLATE "C" NOT NULL,
    delivered   BOOLEAN NOT NULL,
    error       TEXT COLLATE "C"
);
CREATE INDEX notices_incident ON notices (incident_id, at, seq);
CREATE INDEX notices_at ON notices (at);

-- Append-only: rows are inserted, and deleted only by retention.
CREATE TABLE audit_log (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TEXT COLLATE "C" NOT NULL,
    incident_id TEXT COLLATE "C",
    action      TEXT COLLATE "C" NOT NULL,
    host        TEXT COLLATE "C",
    decision    TEXT COLLATE "C" NOT NULL,
    rule        TEXT COLLATE "C" NOT NULL,
    reason      TEXT COLLATE "C" NOT NULL,
    executed    BOOLEAN NOT NULL,
    exit_code   BIGINT
);
CREATE INDEX audit_log_at ON audit_log (at, seq);
CREATE INDEX audit_log_incident ON audit_log (incident_id, at, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
