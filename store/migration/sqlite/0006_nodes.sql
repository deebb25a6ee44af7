-- ecsd schema, version 6: the nodes that share the database.

-- One row per running node, under the ID its River client uses. Times are
-- the database's clock, as River's SQLite driver writes them
-- (datetime('now', 'subsec')).
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    started_at   TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
);
