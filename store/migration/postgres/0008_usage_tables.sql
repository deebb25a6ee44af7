-- ecsd schema, version 8: the usage of projects and hosts, kept by triggers.

-- Quota (ProjectUsage) and capacity (HostUsage) read these small tables
-- (one row per group of live servers) instead of counting the servers of
-- a project or an AZ, which made a resize's checks cost time in
-- proportion to the servers of its AZ. A trigger on servers keeps them, so
-- every write of a server (insert, update, delete, the bulk deletes of a
-- reset or an import) keeps them exact. Groups whose count falls to zero
-- stay, with count 0.
CREATE TABLE project_usage (
    project_id       TEXT NOT NULL,
    flavor_id        TEXT NOT NULL,
    resize_flavor_id TEXT NOT NULL,
    charging_mode    TEXT NOT NULL,
    count            BIGINT NOT NULL,
    PRIMARY KEY (project_id, flavor_id, resize_flavor_id, charging_mode)
);
CREATE TABLE az_usage (
    az               TEXT NOT NULL,
    host_id          TEXT NOT NULL,
    flavor_id        TEXT NOT NULL,
    resize_flavor_id TEXT NOT NULL,
    resize_host_id   TEXT NOT NULL,
    count            BIGINT NOT NULL,
    PRIMARY KEY (az, host_id, flavor_id, resize_flavor_id, resize_host_id)
);
INSERT INTO project_usage (project_id, flavor_id, resize_flavor_id, charging_mode, count)
    SELECT project_id, flavor_id, resize_flavor_id, charging_mode, count(*) FROM servers
    WHERE deleted = 0 GROUP BY project_id, flavor_id, resize_flavor_id, charging_mode;
INSERT INTO az_usage (az, host_id, flavor_id, resize_flavor_id, resize_host_id, count)
    SELECT az, host_id, flavor_id, resize_flavor_id, resize_host_id, count(*) FROM servers
    WHERE deleted = 0 GROUP BY az, host_id, flavor_id, resize_flavor_id, resize_host_id;

CREATE FUNCTION servers_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND (OLD.deleted, OLD.project_id, OLD.az, OLD.host_id, OLD.flavor_id, OLD.resize_flavor_id, OLD.resize_host_id, OLD.charging_mode)
        IS NOT DISTINCT FROM
            (NEW.deleted, NEW.project_id, NEW.az, NEW.host_id, NEW.flavor_id, NEW.resize_flavor_id, NEW.resize_host_id, NEW.charging_mode) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted = 0 THEN
        UPDATE project_usage SET count = count - 1 WHERE project_id = OLD.project_id AND flavor_id = OLD.flavor_id
            AND resize_flavor_id = OLD.resize_flavor_id AND charging_mode = OLD.charging_mode;
        UPDATE az_usage SET count = count - 1 WHERE az = OLD.az AND host_id = OLD.host_id AND flavor_id = OLD.flavor_id
            AND resize_flavor_id = OLD.resize_flavor_id AND resize_host_id = OLD.resize_host_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted = 0 THEN
        INSERT INTO project_usage (project_id, flavor_id, resize_flavor_id, charging_mode, count)
            VALUES (NEW.project_id, NEW.flavor_id, NEW.resize_flavor_id, NEW.charging_mode, 1)
            ON CONFLICT (project_id, flavor_id, resize_flavor_id, charging_mode) DO UPDATE SET count = project_usage.count + 1;
        INSERT INTO az_usage (az, host_id, flavor_id, resize_flavor_id, resize_host_id, count)
            VALUES (NEW.az, NEW.host_id, NEW.flavor_id, NEW.resize_flavor_id, NEW.resize_host_id, 1)
            ON CONFLICT (az, host_id, flavor_id, resize_flavor_id, resize_host_id) DO UPDATE SET count = az_usage.count + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER servers_usage AFTER INSERT OR DELETE OR UPDATE ON servers
    FOR EACH ROW EXECUTE FUNCTION servers_usage();

-- The covering indexes of version 7 served only the counts these tables
-- replace.
DROP INDEX servers_project_usage;
DROP INDEX servers_az_usage;
