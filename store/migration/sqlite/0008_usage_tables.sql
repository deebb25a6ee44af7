-- ecsd schema, version 8: the usage of projects and hosts, kept by triggers.

-- Quota (ProjectUsage) and capacity (HostUsage) read these small tables
-- (one row per group of live servers) instead of counting the servers of
-- a project or an AZ, which made a resize's checks cost time in
-- proportion to the servers of its AZ. Triggers on servers keep them, so
-- every write of a server (insert, update, delete, the bulk deletes of a
-- reset or an import) keeps them exact. Groups whose count falls to zero
-- stay, with count 0.
CREATE TABLE project_usage (
    project_id       TEXT NOT NULL,
    flavor_id        TEXT NOT NULL,
    resize_flavor_id TEXT NOT NULL,
    charging_mode    TEXT NOT NULL,
    count            INTEGER NOT NULL,
    PRIMARY KEY (project_id, flavor_id, resize_flavor_id, charging_mode)
);
CREATE TABLE az_usage (
    az               TEXT NOT NULL,
    host_id          TEXT NOT NULL,
    flavor_id        TEXT NOT NULL,
    resize_flavor_id TEXT NOT NULL,
    resize_host_id   TEXT NOT NULL,
    count            INTEGER NOT NULL,
    PRIMARY KEY (az, host_id, flavor_id, resize_flavor_id, resize_host_id)
);
INSERT INTO project_usage (project_id, flavor_id, resize_flavor_id, charging_mode, count)
    SELECT project_id, flavor_id, resize_flavor_id, charging_mode, count(*) FROM servers
    WHERE deleted = 0 GROUP BY project_id, flavor_id, resize_flavor_id, charging_mode;
INSERT INTO az_usage (az, host_id, flavor_id, resize_flavor_id, resize_host_id, count)
    SELECT az, host_id, flavor_id, resize_flavor_id, resize_host_id, count(*) FROM servers
    WHERE deleted = 0 GROUP BY az, host_id, flavor_id, resize_flavor_id, resize_host_id;

CREATE TRIGGER servers_usage_insert AFTER INSERT ON servers WHEN NEW.deleted = 0
BEGIN
    INSERT INTO project_usage (project_id, flavor_id, resize_flavor_id, charging_mode, count)
        VALUES (NEW.project_id, NEW.flavor_id, NEW.resize_flavor_id, NEW.charging_mode, 1)
        ON CONFLICT (project_id, flavor_id, resize_flavor_id, charging_mode) DO UPDATE SET count = count + 1;
    INSERT INTO az_usage (az, host_id, flavor_id, resize_flavor_id, resize_host_id, count)
        VALUES (NEW.az, NEW.host_id, NEW.flavor_id, NEW.resize_flavor_id, NEW.resize_host_id, 1)
        ON CONFLICT (az, host_id, flavor_id, resize_flavor_id, resize_host_id) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER servers_usage_delete AFTER DELETE ON servers WHEN OLD.deleted = 0
BEGIN
    UPDATE project_usage SET count = count - 1 WHERE project_id = OLD.project_id AND flavor_id = OLD.flavor_id
        AND resize_flavor_id = OLD.resize_flavor_id AND charging_mode = OLD.charging_mode;
    UPDATE az_usage SET count = count - 1 WHERE az = OLD.az AND host_id = OLD.host_id AND flavor_id = OLD.flavor_id
        AND resize_flavor_id = OLD.resize_flavor_id AND resize_host_id = OLD.resize_host_id;
END;

CREATE TRIGGER servers_usage_update_project AFTER UPDATE ON servers
    WHEN OLD.deleted IS NOT NEW.deleted OR OLD.project_id IS NOT NEW.project_id OR OLD.flavor_id IS NOT NEW.flavor_id
        OR OLD.resize_flavor_id IS NOT NEW.resize_flavor_id OR OLD.charging_mode IS NOT NEW.charging_mode
BEGIN
    UPDATE project_usage SET count = count - 1 WHERE OLD.deleted = 0 AND project_id = OLD.project_id
        AND flavor_id = OLD.flavor_id AND resize_flavor_id = OLD.resize_flavor_id AND charging_mode = OLD.charging_mode;
    INSERT INTO project_usage (project_id, flavor_id, resize_flavor_id, charging_mode, count)
        SELECT NEW.project_id, NEW.flavor_id, NEW.resize_flavor_id, NEW.charging_mode, 1 WHERE NEW.deleted = 0
        ON CONFLICT (project_id, flavor_id, resize_flavor_id, charging_mode) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER servers_usage_update_az AFTER UPDATE ON servers
    WHEN OLD.deleted IS NOT NEW.deleted OR OLD.az IS NOT NEW.az OR OLD.host_id IS NOT NEW.host_id
        OR OLD.flavor_id IS NOT NEW.flavor_id OR OLD.resize_flavor_id IS NOT NEW.resize_flavor_id
        OR OLD.resize_host_id IS NOT NEW.resize_host_id
BEGIN
    UPDATE az_usage SET count = count - 1 WHERE OLD.deleted = 0 AND az = OLD.az AND host_id = OLD.host_id
        AND flavor_id = OLD.flavor_id AND resize_flavor_id = OLD.resize_flavor_id AND resize_host_id = OLD.resize_host_id;
    INSERT INTO az_usage (az, host_id, flavor_id, resize_flavor_id, resize_host_id, count)
        SELECT NEW.az, NEW.host_id, NEW.flavor_id, NEW.resize_flavor_id, NEW.resize_host_id, 1 WHERE NEW.deleted = 0
        ON CONFLICT (az, host_id, flavor_id, resize_flavor_id, resize_host_id) DO UPDATE SET count = count + 1;
END;

-- The covering indexes of version 7 served only the counts these tables
-- replace.
DROP INDEX servers_project_usage;
DROP INDEX servers_az_usage;
