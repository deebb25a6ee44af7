-- ecsd schema, version 3: BSS orders of yearly/monthly servers.

-- One row per order. status and type use BSS's numbers (CustomerOrderV3);
-- amount is in CNY, negative for a refund; period_end is when the
-- subscription bought (or changed) ends, in Unix nanoseconds, as every
-- time column; server_ids is a JSON array.
CREATE TABLE orders (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    project_id   TEXT NOT NULL,
    type         INTEGER NOT NULL,
    status       INTEGER NOT NULL,
    amount       REAL NOT NULL,
    currency     TEXT NOT NULL,
    flavor_id    TEXT NOT NULL,
    period_type  TEXT NOT NULL,
    period_num   INTEGER NOT NULL,
    period_end   INTEGER NOT NULL,
    server_ids   TEXT NOT NULL,
    job_id       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    paid_at      INTEGER NOT NULL,
    cancelled_at INTEGER NOT NULL
);
CREATE INDEX orders_project ON orders (project_id, seq);
