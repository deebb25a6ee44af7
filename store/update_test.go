package store_test

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// text is any string PostgreSQL's TEXT can hold (no NUL).
var text = rapid.Map(rapid.String(), func(s string) string { return strings.ReplaceAll(s, "\x00", "") })

// mutateServer changes a random subset of s's fields (every field of
// ecs.Server, by reflection, so that a field added later is covered) to
// random values.
func mutateServer(t *rapid.T, s *ecs.Server) {
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		if name == "ID" || !f.CanSet() || !rapid.Bool().Draw(t, "change "+name) {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(text.Draw(t, name))
		case reflect.Int, reflect.Int64:
			if f.Type() == reflect.TypeFor[time.Duration]() {
				continue
			}
			f.SetInt(int64(rapid.IntRange(-1000, 100000).Draw(t, name)))
		case reflect.Bool:
			f.SetBool(!f.Bool())
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.String {
				xs := rapid.SliceOfN(text, 0, 4).Draw(t, name)
				if rapid.Bool().Draw(t, name+" nil") {
					xs = nil
				}
				f.Set(reflect.ValueOf(xs))
			}
		case reflect.Map:
			if f.Type() == reflect.TypeFor[map[string]string]() {
				m := rapid.MapOfN(text, text, 0, 4).Draw(t, name)
				if rapid.Bool().Draw(t, name+" nil") {
					m = nil
				}
				f.Set(reflect.ValueOf(m))
			}
		case reflect.Struct:
			if f.Type() == reflect.TypeFor[time.Time]() {
				f.Set(reflect.ValueOf(time.Unix(0, rapid.Int64Range(0, 4e18).Draw(t, name)).UTC()))
			}
		}
	}
}

// TestUpdateServerFrom: writing only the changed columns leaves the row
// exactly as writing every column does, whatever changed.
func TestUpdateServerFrom(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		n := 0
		rapid.Check(t, func(rt *rapid.T) {
			n++
			a, b := fmt.Sprintf("a-%d", n), fmt.Sprintf("b-%d", n)
			old := fullServer(a)
			mutateServer(rt, old)
			old.ID = a
			twin := *old
			twin.ID = b
			inTx(t, db, func(tx *sql.Tx) error {
				if err := db.InsertServer(ctx, tx, old); err != nil {
					return err
				}
				return db.InsertServer(ctx, tx, &twin)
			})
			// a as read back (what callers hold), then the same changes
			// written to a by UpdateServerFrom and to b by UpdateServer.
			var readA *ecs.Server
			inTx(t, db, func(tx *sql.Tx) (err error) {
				readA, err = db.ServerByID(ctx, tx, "", a)
				return err
			})
			changed := *readA
			mutateServer(rt, &changed)
			changed.ID = a
			full := changed
			full.ID = b
			inTx(t, db, func(tx *sql.Tx) error {
				if err := db.UpdateServerFrom(ctx, tx, readA, &changed); err != nil {
					return err
				}
				return db.UpdateServer(ctx, tx, &full)
			})
			var gotA, gotB *ecs.Server
			inTx(t, db, func(tx *sql.Tx) (err error) {
				if gotA, err = db.ServerByID(ctx, tx, "", a); err != nil {
					return err
				}
				gotB, err = db.ServerByID(ctx, tx, "", b)
				return err
			})
			gotB.ID = a
			if diff := cmp.Diff(gotB, gotA); diff != "" {
				rt.Fatalf("UpdateServerFrom left the row unlike UpdateServer (-UpdateServer +UpdateServerFrom):\n%s", diff)
			}
		})
	})
}

// TestUpdateServerFromGone: a server that was deleted meanwhile is not
// found, as with UpdateServer.
func TestUpdateServerFromGone(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storetest.NewDB(t)
	s := fullServer("gone")
	inTx(t, db, func(tx *sql.Tx) error { return db.InsertServer(ctx, tx, s) })
	inTx(t, db, func(tx *sql.Tx) error { return db.MarkServerDeleted(ctx, tx, "gone", testTime) })
	changed := *s
	changed.TaskState = ecs.TaskResizePrep
	tx, err := db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := db.UpdateServerFrom(ctx, tx, s, &changed); err == nil {
		t.Error("UpdateServerFrom of a deleted server: no error, want sql.ErrNoRows")
	}
}
