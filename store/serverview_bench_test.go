package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// BenchmarkServerView compares ServerView's two ways, one statement and
// three in a read transaction, on each engine (PostgreSQL with
// TEST_DATABASE_URL).
func BenchmarkServerView(b *testing.B) {
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			db := e.NewDB(b)
			srv := seedViewServer(b, db, 2, 2)
			for name, view := range map[string]serverViewFunc{
				"one-statement": db.ServerViewOneStatement, "read-transaction": db.ServerViewInTx} {
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, _, _, err := view(b.Context(), srv.ProjectID, srv.ID); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

type serverViewFunc func(ctx context.Context, projectID, id string) (*ecs.Server, []*ecs.SecurityGroup, []*ecs.Volume, error)

// seedViewServer commits a server of project with groups security
// groups (all named by it) and vols volumes.
func seedViewServer(tb testing.TB, db *store.DB, groups, vols int) *ecs.Server {
	tb.Helper()
	ctx := tb.Context()
	srv := fullServer("view-server")
	srv.TaskState, srv.SecurityGroups = ecs.TaskNone, nil
	inTx(tb, db, func(tx *sql.Tx) error {
		for i := range groups {
			g := &ecs.SecurityGroup{ID: fmt.Sprintf("sg-%d", i), ProjectID: project, Name: fmt.Sprintf("group %d", i), Created: testTime}
			if err := db.InsertSecurityGroup(ctx, tx, g); err != nil {
				return err
			}
			srv.SecurityGroups = append(srv.SecurityGroups, g.ID)
		}
		if err := db.InsertServer(ctx, tx, srv); err != nil {
			return err
		}
		for i := range vols {
			v := &ecs.Volume{ID: fmt.Sprintf("vol-%d", i), ProjectID: project, ServerID: srv.ID, Device: fmt.Sprintf("/dev/vd%c", 'a'+i),
				BootIndex: i - 1, Status: ecs.VolumeInUse, Created: testTime, Updated: testTime}
			if err := db.InsertVolume(ctx, tx, v); err != nil {
				return err
			}
		}
		return nil
	})
	return srv
}
