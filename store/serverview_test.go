package store_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// awkward are strings that JSON must escape or that need more than ASCII.
var awkward = []string{"", "plain", `quo"te`, `back\slash`, "new\nline\ttab", "\x01ctl\x1f", "ünïcödé «»", "emoji 🚀",
	"</script>&", "\u2028\u2029", `{"json":[1,2]}`, "  spaced  ", "-12", "3.5"}

// TestServerViewOneStatementMatchesThree: on each engine, for random
// servers, security groups and volumes (strings JSON must escape, times
// anywhere in int64 nanoseconds, groups of other projects, volumes of
// other servers), ServerView's one statement returns exactly what its
// three statements in a read transaction return; and so do the cases of
// a server that does not exist, of another project, and of "any project".
func TestServerViewOneStatementMatchesThree(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		rng := rand.New(rand.NewPCG(6, 7))
		str := func() string {
			if rng.IntN(3) == 0 {
				return fmt.Sprintf("%s-%d", awkward[rng.IntN(len(awkward))], rng.IntN(1000))
			}
			return awkward[rng.IntN(len(awkward))]
		}
		when := func() time.Time {
			switch rng.IntN(3) {
			case 0:
				return time.Unix(0, rng.Int64()-rng.Int64()).UTC()
			case 1:
				return testTime.Add(time.Duration(rng.IntN(5)) * time.Hour)
			}
			return testTime
		}
		var groups []string
		var servers []*ecs.Server
		inTx(t, db, func(tx *sql.Tx) error {
			for i := range 12 {
				g := &ecs.SecurityGroup{ID: fmt.Sprintf("sg-%02d", i), ProjectID: project, Name: str(), Description: str(),
					VPCID: str(), Created: when()}
				if i%4 == 3 {
					g.ProjectID = otherProject
				}
				if err := db.InsertSecurityGroup(ctx, tx, g); err != nil {
					return err
				}
				groups = append(groups, g.ID)
			}
			for i := range 30 {
				srv := fullServer(fmt.Sprintf("srv-%02d", i))
				srv.TaskState, srv.SecurityGroups = ecs.TaskNone, []string{}
				for range rng.IntN(5) {
					srv.SecurityGroups = append(srv.SecurityGroups, groups[rng.IntN(len(groups))])
				}
				if rng.IntN(4) == 0 {
					srv.SecurityGroups = append(srv.SecurityGroups, "sg-missing")
				}
				if err := db.InsertServer(ctx, tx, srv); err != nil {
					return err
				}
				servers = append(servers, srv)
				for j := range rng.IntN(5) {
					v := &ecs.Volume{ID: fmt.Sprintf("vol-%02d-%d", i, j), ProjectID: project, Name: str(),
						AvailabilityZone: str(), VolumeType: str(), SizeGB: rng.IntN(2000) - 1, Bootable: rng.IntN(2) == 0,
						ImageID: str(), Status: str(), ServerID: srv.ID, Device: fmt.Sprintf("/dev/vd%c", 'a'+rng.IntN(4)),
						BootIndex: rng.IntN(4) - 1, DeleteOnTermination: rng.IntN(2) == 0, Created: when(), Updated: when()}
					if rng.IntN(6) == 0 {
						v.ServerID = "" // detached: nobody's
					}
					if err := db.InsertVolume(ctx, tx, v); err != nil {
						return err
					}
				}
			}
			return nil
		})
		compare := func(projectID, id string) {
			t.Helper()
			s1, g1, v1, err1 := db.ServerViewOneStatement(ctx, projectID, id)
			s3, g3, v3, err3 := db.ServerViewInTx(ctx, projectID, id)
			if (err1 == nil) != (err3 == nil) || (err1 != nil && ecsCode(err1) != ecsCode(err3)) {
				t.Fatalf("%q/%s: errors %v / %v", projectID, id, err1, err3)
			}
			if diff := cmp.Diff([]any{s3, g3, v3}, []any{s1, g1, v1}); diff != "" {
				t.Errorf("%q/%s: one statement differs from three (-three +one):\n%s", projectID, id, diff)
			}
		}
		var views int
		for _, srv := range servers {
			compare(project, srv.ID)
			_, g, v, _ := db.ServerViewOneStatement(ctx, project, srv.ID)
			views += min(len(g), 1) + min(len(v), 1)
		}
		if views < len(servers) {
			t.Fatalf("only %d groups and volumes lists were not empty: the comparison shows little", views)
		}
		compare(project, "srv-nope")
		compare(otherProject, servers[0].ID)
		compare("", servers[1].ID)
		if _, _, _, err := db.ServerView(ctx, project, "srv-nope"); ecsCode(err) != ecs.CodeServerNotFound {
			t.Errorf("ServerView of a missing server: %v, want %s", err, ecs.CodeServerNotFound)
		}
	})
}

func ecsCode(err error) string {
	var e *ecs.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestParseJSONRows: parseJSONRows reads back rows of strings and
// integers written as SQLite (json.Marshal's compact form) and PostgreSQL
// (", " between values, ",\n " between rows) write them, and refuses what
// is not such rows.
func TestParseJSONRows(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		rows := rapid.SliceOf(rapid.SliceOf(rapid.OneOf(
			rapid.Map(rapid.String(), func(s string) any { return s }),
			rapid.Map(rapid.Int64(), func(n int64) any { return n }),
		))).Draw(t, "rows")
		compact, err := json.Marshal(rows)
		if err != nil {
			t.Fatal(err)
		}
		spaced := pgStyle(rows)
		for _, text := range []string{string(compact), spaced} {
			got, err := store.ParseJSONRows(text)
			if err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			if diff := cmp.Diff(rows, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("%s (-want +got):\n%s", text, diff)
			}
		}
	})
	for _, bad := range []string{``, `[`, `[[1]`, `[1]`, `[[1.5]]`, `[[null]]`, `[[true]]`, `[["a"] ["b"]]`, `[[1],]`, `[["a\x"]]`,
		`[[-]]`, `[["a"]] x`, `{"a":1}`, `[[{"a":1}]]`, `[["unterminated]]`} {
		if _, err := store.ParseJSONRows(bad); err == nil {
			t.Errorf("ParseJSONRows(%q) succeeded", bad)
		}
	}
}

// pgStyle writes rows as PostgreSQL's json_agg of json_build_array does.
func pgStyle(rows [][]any) string {
	var b strings.Builder
	b.WriteString("[")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", \n ")
		}
		b.WriteString("[")
		for j, v := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			out, _ := json.Marshal(v)
			b.Write(out)
		}
		b.WriteString("]")
	}
	b.WriteString("]")
	return b.String()
}
