-- ecsd schema, version 9: the servers and jobs in progress, indexed.

-- Start-up (compute.Service.Reconcile) reads the servers with a task and
-- the jobs that have not ended, and the console's event stream reads the
-- unfinished jobs at every tick. Without these indexes each read went
-- through every server and every job ever run: 72 ms of a PostgreSQL
-- node's start-up at 100,000 servers. A row is in an index only while
-- its server or job is in progress. The queries spell the same
-- conditions, with literals, so that the planners can use them.
CREATE INDEX servers_busy ON servers (seq) WHERE task_state <> '' AND deleted = 0;
CREATE INDEX jobs_unfinished ON jobs (seq) WHERE status NOT IN ('SUCCESS', 'FAIL');
