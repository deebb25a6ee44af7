package ecs

import "context"

// JobBatchResize is the type of the parent job of a batch resize; each of
// its sub-jobs is a JobResizeServer (ecsd's choice, docs/compatibility.md).
const JobBatchResize = "batchResizeServers"

// MaxBatchResize is the largest number of servers one batch resize may name.
const MaxBatchResize = 50

// BatchResizeRequest changes the flavor of several servers at once
// (POST /v1/{project_id}/cloudservers/batch-resize).
type BatchResizeRequest struct {
	ProjectID  string
	ServerIDs  []string
	FlavorID   string
	WithStop   bool // mode=withStopServer, applied to each server
	CPUThreads int  // cpu_options hw:cpu_threads, 0 when absent
}

// BatchResizeService resizes servers in batch.
type BatchResizeService interface {
	// BatchResizeServers validates the whole request and, when every server
	// passes, starts one resize per server under one parent job. It returns
	// the job and, for yearly/monthly servers, the one order for the summed
	// price difference: an upgrade's order awaits payment (the job is
	// PENDING_PAYMENT until it is paid), a downgrade's refund is completed
	// at once. Nothing changes when any check fails.
	BatchResizeServers(ctx context.Context, req *BatchResizeRequest) (*ResizeResult, error)
}
