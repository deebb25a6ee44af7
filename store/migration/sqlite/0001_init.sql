-- ecsd schema, version 1. River's own tables are created by rivermigrate.

CREATE TABLE tenants (
    access_key      TEXT PRIMARY KEY,
    secret_key      TEXT NOT NULL,
    project_id      TEXT NOT NULL UNIQUE,
    project_name    TEXT NOT NULL,
    domain_id       TEXT NOT NULL,
    quota_instances INTEGER NOT NULL,
    quota_cores     INTEGER NOT NULL,
    quota_ram       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE vpcs (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    cidr       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX vpcs_project ON vpcs (project_id);

CREATE TABLE subnets (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    vpc_id     TEXT NOT NULL REFERENCES vpcs (id),
    name       TEXT NOT NULL,
    cidr       TEXT NOT NULL,
    gateway_ip TEXT NOT NULL,
    az         TEXT NOT NULL,
    next_host  INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX subnets_project ON subnets (project_id);

CREATE TABLE security_groups (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    vpc_id      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX security_groups_project ON security_groups (project_id);

CREATE TABLE hosts (
    id     TEXT PRIMARY KEY,
    az     TEXT NOT NULL,
    vcpus  INTEGER NOT NULL,
    ram_mb INTEGER NOT NULL,
    arch   TEXT NOT NULL
);

CREATE TABLE servers (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    project_id       TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    flavor_id        TEXT NOT NULL,
    image_id         TEXT NOT NULL,
    az               TEXT NOT NULL,
    host_id          TEXT NOT NULL,
    vm_state         TEXT NOT NULL,
    task_state       TEXT NOT NULL,
    status           TEXT NOT NULL,
    power_state      INTEGER NOT NULL,
    charging_mode    TEXT NOT NULL,
    order_id         TEXT NOT NULL,
    vpc_id           TEXT NOT NULL,
    subnet_id        TEXT NOT NULL,
    port_id          TEXT NOT NULL,
    ip_address       TEXT NOT NULL,
    mac_address      TEXT NOT NULL,
    security_groups  TEXT NOT NULL, -- JSON array of IDs
    key_name         TEXT NOT NULL,
    user_data        TEXT NOT NULL,
    metadata         TEXT NOT NULL, -- JSON object
    tags             TEXT NOT NULL, -- JSON array of "key=value"
    root_volume_id   TEXT NOT NULL,
    root_volume_type TEXT NOT NULL,
    root_volume_size INTEGER NOT NULL,
    resize_flavor_id TEXT NOT NULL,
    resize_host_id   TEXT NOT NULL,
    cpu_threads      INTEGER NOT NULL,
    locked           INTEGER NOT NULL,
    frozen           INTEGER NOT NULL,
    fault_code       INTEGER NOT NULL,
    fault_message    TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    launched_at      INTEGER NOT NULL,
    deleted          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX servers_project ON servers (project_id, deleted, seq);
CREATE INDEX servers_project_status ON servers (project_id, status, seq);
CREATE INDEX servers_host ON servers (host_id) WHERE deleted = 0;

CREATE TABLE jobs (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    project_id  TEXT NOT NULL,
    parent_id   TEXT NOT NULL,
    type        TEXT NOT NULL,
    status      TEXT NOT NULL,
    server_id   TEXT NOT NULL,
    phase       TEXT NOT NULL,
    params      TEXT NOT NULL,
    error_code  TEXT NOT NULL,
    fail_reason TEXT NOT NULL,
    begin_time  INTEGER NOT NULL,
    end_time    INTEGER NOT NULL
);
CREATE INDEX jobs_parent ON jobs (parent_id, seq) WHERE parent_id <> '';
CREATE INDEX jobs_server ON jobs (server_id, seq);

CREATE TABLE client_tokens (
    project_id TEXT NOT NULL,
    token      TEXT NOT NULL,
    response   TEXT NOT NULL, -- JSON of the original result
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, token)
);
