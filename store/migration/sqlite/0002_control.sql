-- ecsd schema, version 2: what the test-control API keeps.

-- Small persistent settings, such as the clock's state, as JSON values.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Fault-injection rules. rule is the rule as JSON; remaining is how often it
-- may still fire (-1 = without limit); fired counts how often it did.
CREATE TABLE fault_rules (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    rule       TEXT NOT NULL,
    remaining  INTEGER NOT NULL,
    fired      INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- Actions taken on servers (like Nova's instance actions): one row per
-- accepted request that changes a server, closed when its job ends.
CREATE TABLE server_actions (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  TEXT NOT NULL,
    server_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    job_id      TEXT NOT NULL,
    start_time  INTEGER NOT NULL,
    finish_time INTEGER NOT NULL,
    result      TEXT NOT NULL, -- "" while running, then SUCCESS or FAIL
    error_code  TEXT NOT NULL,
    message     TEXT NOT NULL
);
CREATE INDEX server_actions_server ON server_actions (server_id, seq);
CREATE INDEX server_actions_job ON server_actions (job_id);

-- The phases each job went through, with their start and end times.
CREATE TABLE job_phases (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     TEXT NOT NULL,
    phase      TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    end_time   INTEGER NOT NULL -- 0 while the phase runs
);
CREATE INDEX job_phases_job ON job_phases (job_id, seq);
