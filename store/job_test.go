package store_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

func mustJobByID(tb testing.TB, db *store.DB, projectID, id string) *ecs.Job {
	tb.Helper()
	var j *ecs.Job
	inTx(tb, db, func(tx *sql.Tx) error {
		var err error
		j, err = db.JobByID(tb.Context(), tx, projectID, id)
		return err
	})
	return j
}

func TestJobRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)

		parent := &ecs.Job{
			ID: "job-parent", ProjectID: project, Type: ecs.JobBatchStop, Status: ecs.JobInit,
			Params: "{}", BeginTime: testTime,
		}
		subs := []*ecs.Job{
			{ID: "job-sub-2", ProjectID: project, ParentID: parent.ID, Type: ecs.JobStopServer, Status: ecs.JobInit,
				ServerID: "srv-2", Params: `{"hard":true}`, BeginTime: testTime},
			{ID: "job-sub-1", ProjectID: project, ParentID: parent.ID, Type: ecs.JobStopServer, Status: ecs.JobInit,
				ServerID: "srv-1", Params: `{}`, BeginTime: testTime},
		}
		single := &ecs.Job{
			ID: "job-single", ProjectID: project, Type: ecs.JobResizeServer, Status: ecs.JobFail, ServerID: "srv-3",
			Phase: ecs.TaskResizeMigrating, Params: `{"flavor_id":"s6.large.2"}`, ErrorCode: ecs.CodeResizeFailed,
			FailReason: "resizeServer failed at resize_migrating: boom", BeginTime: testTime, EndTime: testTime.Add(time.Minute),
		}
		requireAllFieldsSet(t, withSubJob(single))
		inTx(t, db, func(tx *sql.Tx) error {
			for _, j := range append([]*ecs.Job{parent, single}, subs...) {
				if err := db.InsertJob(ctx, tx, j); err != nil {
					return err
				}
			}
			return nil
		})

		if diff := cmp.Diff(single, mustJobByID(t, db, project, single.ID), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("single job (-want +got):\n%s", diff)
		}
		// Sub-jobs come in creation order, not ID order.
		want := *parent
		want.SubJobs = subs
		if diff := cmp.Diff(&want, mustJobByID(t, db, project, parent.ID), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("batch job (-want +got):\n%s", diff)
		}

		// UpdateJob writes the mutable columns.
		upd := *subs[0]
		upd.Status, upd.Phase, upd.Params = ecs.JobFail, ecs.TaskPoweringOff, `{"hard":false}`
		upd.ErrorCode, upd.FailReason = ecs.CodeGeneric, "stop failed"
		upd.BeginTime, upd.EndTime = testTime.Add(time.Second), testTime.Add(time.Hour)
		inTx(t, db, func(tx *sql.Tx) error { return db.UpdateJob(ctx, tx, &upd) })
		if diff := cmp.Diff(&upd, mustJobByID(t, db, "", upd.ID), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("updated job (-want +got):\n%s", diff)
		}

		// SubJobs alone, and a job without sub-jobs.
		inTx(t, db, func(tx *sql.Tx) error {
			got, err := db.SubJobs(ctx, tx, parent.ID)
			if err != nil {
				return err
			}
			if ids := jobIDs(got); !cmp.Equal(ids, []string{"job-sub-2", "job-sub-1"}) {
				t.Errorf("SubJobs = %v, want [job-sub-2 job-sub-1]", ids)
			}
			got, err = db.SubJobs(ctx, tx, single.ID)
			if err != nil {
				return err
			}
			if len(got) != 0 {
				t.Errorf("SubJobs of a single job = %v, want none", jobIDs(got))
			}
			return nil
		})
	})
}

// withSubJob returns j with a sub-job, so that requireAllFieldsSet accepts
// a single job whose SubJobs are legitimately empty.
func withSubJob(j *ecs.Job) *ecs.Job {
	c := *j
	c.ParentID = "set-for-the-check"
	c.SubJobs = []*ecs.Job{{}}
	return &c
}

func TestJobNotFound(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		j := &ecs.Job{ID: "job-1", ProjectID: project, Type: ecs.JobResizeServer, Status: ecs.JobInit, Params: "{}", BeginTime: testTime}
		inTx(t, db, func(tx *sql.Tx) error { return db.InsertJob(ctx, tx, j) })
		inTx(t, db, func(tx *sql.Tx) error {
			for _, tc := range []struct{ projectID, id string }{
				{project, "job-nope"},
				{otherProject, j.ID},
			} {
				_, err := db.JobByID(ctx, tx, tc.projectID, tc.id)
				var e *ecs.Error
				if !asError(err, &e) || e.Code != ecs.CodeBadRequest || e.Status != 404 {
					t.Errorf("JobByID(%q, %q) = %v, want %s with status 404", tc.projectID, tc.id, err, ecs.CodeBadRequest)
				}
			}
			return nil
		})
		if err := failInTx(t, db, func(tx *sql.Tx) error { return db.InsertJob(ctx, tx, j) }); err == nil {
			t.Error("InsertJob of an existing ID succeeded")
		}
	})
}

func TestUnfinishedJobs(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		statuses := map[string]string{
			"j1": ecs.JobRunning, "j2": ecs.JobSuccess, "j3": ecs.JobInit, "j4": ecs.JobFail, "j5": ecs.JobRunning,
		}
		inTx(t, db, func(tx *sql.Tx) error {
			for _, id := range []string{"j1", "j2", "j3", "j4", "j5"} {
				j := &ecs.Job{ID: id, ProjectID: project, Type: ecs.JobStartServer, Status: statuses[id], Params: "{}", BeginTime: testTime}
				if err := db.InsertJob(ctx, tx, j); err != nil {
					return err
				}
			}
			return nil
		})
		inTx(t, db, func(tx *sql.Tx) error {
			got, err := db.UnfinishedJobs(ctx, tx)
			if err != nil {
				return err
			}
			if diff := cmp.Diff([]string{"j1", "j3", "j5"}, jobIDs(got)); diff != "" {
				t.Errorf("UnfinishedJobs (-want +got, oldest first):\n%s", diff)
			}
			return nil
		})
	})
}

func jobIDs(jobs []*ecs.Job) []string {
	ids := make([]string, 0, len(jobs))
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

func TestRecentJobs(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		other := "ffffffffffffffffffffffffffffffff"
		jobs := []*ecs.Job{
			{ID: "p1", ProjectID: project, Type: ecs.JobStartServer, Status: ecs.JobSuccess},
			{ID: "p1-a", ParentID: "p1", ProjectID: project, Type: ecs.JobStartServer, Status: ecs.JobSuccess},
			{ID: "p1-b", ParentID: "p1", ProjectID: project, Type: ecs.JobStartServer, Status: ecs.JobSuccess},
			{ID: "o1", ProjectID: other, Type: ecs.JobStopServer, Status: ecs.JobRunning},
			{ID: "p2", ProjectID: project, Type: ecs.JobResizeServer, Status: ecs.JobFail},
			{ID: "p3", ProjectID: project, Type: ecs.JobResizeServer, Status: ecs.JobRunning},
		}
		inTx(t, db, func(tx *sql.Tx) error {
			for _, j := range jobs {
				j.Params, j.BeginTime = "{}", testTime
				if err := db.InsertJob(ctx, tx, j); err != nil {
					return err
				}
			}
			return nil
		})
		for _, tc := range []struct {
			project, status string
			limit           int
			want            []string
		}{
			{"", "", 10, []string{"p3", "p2", "o1", "p1"}},
			{"", "", 2, []string{"p3", "p2"}},
			{project, "", 10, []string{"p3", "p2", "p1"}},
			{"", ecs.JobRunning, 10, []string{"p3", "o1"}},
			{project, ecs.JobSuccess, 10, []string{"p1"}},
			{other, ecs.JobFail, 10, nil},
		} {
			inTx(t, db, func(tx *sql.Tx) error {
				got, err := db.RecentJobs(ctx, tx, tc.project, tc.status, tc.limit)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(tc.want, jobIDs(got), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("RecentJobs(%q, %q, %d) (-want +got, newest first):\n%s", tc.project, tc.status, tc.limit, diff)
				}
				for _, j := range got {
					if j.ID == "p1" && !cmp.Equal(jobIDs(j.SubJobs), []string{"p1-a", "p1-b"}) {
						t.Errorf("p1's sub-jobs = %v, want p1-a, p1-b", jobIDs(j.SubJobs))
					}
				}
				return nil
			})
		}
	})
}
