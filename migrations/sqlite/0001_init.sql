-- Jarvis store, SQLite flavour.
-- Identifiers are UUID text; instants are RFC 3339 UTC text with exactly nine
-- fractional digits ("2026-03-01T12:00:00.123456789Z"), so text order is time
-- order and values round-trip without loss. Nested values are JSON text.

-- One webhook delivery: the payload as received, shared by its alerts.
CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY NOT NULL,
    received_at TEXT NOT NULL,
    raw         TEXT
);

CREATE TABLE alerts (
    id             TEXT PRIMARY KEY NOT NULL,
    fingerprint    TEXT NOT NULL,
    starts_at      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    alert_name     TEXT NOT NULL,
    key_alert_name TEXT NOT NULL,
    key_target     TEXT NOT NULL,
    alert          TEXT NOT NULL,
    delivery_id    TEXT,
    received_at    TEXT NOT NULL,
    incident_id    TEXT,
    processed_at   TEXT,
    -- Idempotent ingest: a redelivery hits this key and is ignored.
    UNIQUE (fingerprint, starts_at, status)
);
CREATE INDEX alerts_unprocessed_resolutions ON alerts (received_at, id)
    WHERE status = 'resolved' AND processed_at IS NULL;
CREATE INDEX alerts_incident ON alerts (incident_id);
CREATE INDEX alerts_received_at ON alerts (received_at);
CREATE INDEX alerts_delivery ON alerts (delivery_id);

CREATE TABLE incidents (
    id             TEXT PRIMARY KEY NOT NULL,
    alert_id       TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    alert_name     TEXT NOT NULL,
    key_alert_name TEXT NOT NULL,
    key_target     TEXT NOT NULL,
    labels         TEXT NOT NULL,
    state          TEXT NOT NULL,
    reason         TEXT NOT NULL,
    root_id        TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    lease_owner    TEXT,
    lease_until    TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX incidents_created ON incidents (created_at, id);
CREATE INDEX incidents_state ON incidents (state, created_at, id);
CREATE INDEX incidents_alert_name ON incidents (alert_name, created_at, id);
CREATE INDEX incidents_fingerprint ON incidents (fingerprint, created_at, id);
CREATE INDEX incidents_terminal_age ON incidents (updated_at)
    WHERE state IN ('duplicate', 'in_maintenance', 'host_offline', 'resolved', 'unverified', 'escalated', 'closed');

CREATE TABLE transitions (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX transitions_incident ON transitions (incident_id, at, seq);

CREATE TABLE attempts (
    id                  TEXT PRIMARY KEY NOT NULL,
    incident_id         TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    key_alert_name      TEXT NOT NULL,
    key_target          TEXT NOT NULL,
    tier                TEXT NOT NULL,
    plan                TEXT NOT NULL,
    steps               TEXT NOT NULL,
    verification        TEXT,
    outcome             TEXT NOT NULL,
    outcome_detail      TEXT NOT NULL,
    llm_calls           INTEGER NOT NULL,
    input_tokens        INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    iterations          INTEGER NOT NULL,
    counts_toward_limit INTEGER NOT NULL,
    started_at          TEXT NOT NULL,
    finished_at         TEXT NOT NULL,
    cleared_at          TEXT
);
CREATE INDEX attempts_incident ON attempts (incident_id, started_at, id);
CREATE INDEX attempts_uncleared_key ON attempts (key_alert_name, key_target, started_at, id)
    WHERE cleared_at IS NULL;

CREATE TABLE escalations (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    key_alert_name TEXT NOT NULL,
    key_target     TEXT NOT NULL,
    incident_id    TEXT NOT NULL,
    at             TEXT NOT NULL
);
CREATE INDEX escalations_key ON escalations (key_alert_name, key_target, at);

CREATE TABLE patterns (
    id             TEXT PRIMARY KEY NOT NULL,
    signature      TEXT NOT NULL,
    plan_signature TEXT NOT NULL,
    alert_name     TEXT NOT NULL,
    symptom        TEXT NOT NULL,
    steps          TEXT NOT NULL,
    successes      INTEGER NOT NULL,
    failures       INTEGER NOT NULL,
    source         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_used      TEXT,
    UNIQUE (signature, plan_signature)
);
CREATE INDEX patterns_created ON patterns (created_at, id);

CREATE TABLE failure_patterns (
    signature      TEXT NOT NULL,
    plan_signature TEXT NOT NULL,
    summary        TEXT NOT NULL,
    failures       INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    last_failed_at TEXT NOT NULL,
    PRIMARY KEY (signature, plan_signature)
);
CREATE INDEX failure_patterns_recent ON failure_patterns (signature, last_failed_at);

CREATE TABLE maintenance_windows (
    id         TEXT PRIMARY KEY NOT NULL,
    scope      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    starts_at  TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    ended_at   TEXT
);
CREATE INDEX maintenance_windows_ends ON maintenance_windows (ends_at);

CREATE TABLE approvals (
    id           TEXT PRIMARY KEY NOT NULL,
    incident_id  TEXT NOT NULL,
    step         TEXT NOT NULL,
    rule         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT
);
CREATE INDEX approvals_status ON approvals (status, requested_at, id);
CREATE INDEX approvals_requested ON approvals (requested_at, id);
CREATE INDEX approvals_incident ON approvals (incident_id);

CREATE TABLE host_status (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    host   TEXT NOT NULL,
    online INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX host_status_latest ON host_status (host, at, seq);

CREATE TABLE handoffs (
    id          TEXT PRIMARY KEY NOT NULL,
    target      TEXT NOT NULL,
    incident_id TEXT,
    state       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX handoffs_state ON handoffs (state, created_at, id);
CREATE INDEX handoffs_created ON handoffs (created_at, id);

CREATE TABLE snapshots (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    host        TEXT NOT NULL,
    label       TEXT NOT NULL,
    content     TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX snapshots_incident ON snapshots (incident_id, at, seq);

CREATE TABLE anomalies (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    series            TEXT NOT NULL,
    value             REAL NOT NULL,
    mean              REAL NOT NULL,
    z_score           REAL NOT NULL,
    at                TEXT NOT NULL,
    alert_fingerprint TEXT
);
CREATE INDEX anomalies_at ON anomalies (at, seq);

CREATE TABLE notices (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT,
    kind        TEXT NOT NULL,
    at          TEXT NOT NULL,
    notice      TEXT NOT NULL,
    delivered   INTEGER NOT NULL,
    error       TEXT
);
CREATE INDEX notices_incident ON notices (incident_id, at, seq);
CREATE INDEX notices_at ON notices (at);

-- Append-only: rows are inserted, and deleted only by retention.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    incident_id TEXT,
    action      TEXT NOT NULL,
    host        TEXT,
    decision    TEXT NOT NULL,
    rule        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    executed    INTEGER NOT NULL,
    exit_code   INTEGER
);
CREATE INDEX audit_log_at ON audit_log (at, seq);
CREATE INDEX audit_log_incident ON audit_log (incident_id, at, seq);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
