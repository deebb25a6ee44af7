-- ecsd schema, version 6: the nodes that share the database.

-- One row per running node, under the ID its River client uses. Times are
-- the database's clock (now()), never a node's.
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    started_at   TIMESTAMPTZ NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX nodes_heartbeat ON nodes (heartbeat_at);
