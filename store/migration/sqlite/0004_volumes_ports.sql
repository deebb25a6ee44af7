-- ecsd schema, version 4: the EVS volumes and VPC ports of servers.

-- Volumes are EVS disks: each server's system disk and its data disks.
-- server_id is '' for a detached volume; delete_on_termination says whether
-- deleting the server deletes the volume (the system disk always does; a data
-- disk does when the delete asked for delete_volume).
CREATE TABLE volumes (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    id                    TEXT NOT NULL UNIQUE,
    project_id            TEXT NOT NULL,
    name                  TEXT NOT NULL,
    az                    TEXT NOT NULL,
    volume_type           TEXT NOT NULL,
    size                  INTEGER NOT NULL,
    bootable              INTEGER NOT NULL,
    image_id              TEXT NOT NULL,
    status                TEXT NOT NULL,
    server_id             TEXT NOT NULL,
    device                TEXT NOT NULL,
    boot_index            INTEGER NOT NULL,
    delete_on_termination INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX volumes_project ON volumes (project_id);
CREATE INDEX volumes_server ON volumes (server_id, boot_index, seq) WHERE server_id <> '';

-- Ports are VPC ports: one per server NIC. network_id is the subnet's ID
-- (what Huawei's VPC v1 API calls a network).
CREATE TABLE ports (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    project_id      TEXT NOT NULL,
    network_id      TEXT NOT NULL,
    subnet_id       TEXT NOT NULL,
    ip_address      TEXT NOT NULL,
    mac_address     TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    device_owner    TEXT NOT NULL,
    status          TEXT NOT NULL,
    security_groups TEXT NOT NULL, -- JSON array of IDs
    az              TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX ports_project ON ports (project_id, seq);
CREATE INDEX ports_device ON ports (device_id) WHERE device_id <> '';
