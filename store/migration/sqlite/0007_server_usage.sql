-- ecsd schema, version 7: indexes for quota, capacity and the list page.

-- Quota (ProjectUsage) and capacity (HostUsage) count live servers with
-- GROUP BY on these covering indexes instead of reading every server of a
-- project or an AZ.
CREATE INDEX servers_project_usage ON servers (project_id, deleted, flavor_id, resize_flavor_id, charging_mode);
CREATE INDEX servers_az_usage ON servers (az, deleted, host_id, flavor_id, resize_flavor_id, resize_host_id);

-- The list page filtered by status or flavor: the count is read from the
-- index alone and the page in index order (newest first), without reading
-- the project's other servers.
DROP INDEX servers_project_status;
CREATE INDEX servers_project_status ON servers (project_id, deleted, status, seq);
CREATE INDEX servers_project_flavor ON servers (project_id, deleted, flavor_id, seq);
