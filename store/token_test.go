package store_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	ecs "github.com/ecsd-dev/ecsd"
	"github.com/ecsd-dev/ecsd/store/storetest"
)

// TestTokenRoundTrip stores tokens and finds them again by their value.
func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		project := &ecs.Token{ID: "MIIecsd-project-token", ProjectID: project, UserName: "alice",
			Issued: testTime, Expires: testTime.Add(ecs.TokenLifetime)}
		domain := &ecs.Token{ID: "MIIecsd-domain-token", ProjectID: otherProject, UserName: "bob", DomainScoped: true,
			Issued: testTime.Add(time.Second), Expires: testTime.Add(time.Second + ecs.TokenLifetime)}
		inTx(t, db, func(tx *sql.Tx) error {
			if err := db.InsertToken(ctx, tx, project); err != nil {
				return err
			}
			return db.InsertToken(ctx, tx, domain)
		})

		cases := []struct {
			name  string
			value string
			want  *ecs.Token
		}{
			{"project scoped", project.ID, project},
			{"domain scoped", domain.ID, domain},
			{"unknown", "MIIecsd-unknown", nil},
			{"empty", "", nil},
			{"prefix of a token", project.ID[:len(project.ID)-1], nil},
			{"the stored hash itself", hashOf(project.ID), nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				inTx(t, db, func(tx *sql.Tx) error {
					got, err := db.TokenByID(t.Context(), tx, tc.value)
					if err != nil {
						t.Fatalf("TokenByID: %v", err)
					}
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("TokenByID(%q) (-want +got):\n%s", tc.value, diff)
					}
					return nil
				})
			})
		}
	})
}

// TestTokenStoredAsHash checks that the tokens table holds the SHA-256 of
// a value and never the value.
func TestTokenStoredAsHash(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		tok := &ecs.Token{ID: "MIIecsdSecretValueThatMustNotBeStored", ProjectID: project, UserName: "alice",
			Issued: testTime, Expires: testTime.Add(ecs.TokenLifetime)}
		inTx(t, db, func(tx *sql.Tx) error { return db.InsertToken(ctx, tx, tok) })

		if got := scalar[string](t, db, `SELECT hash FROM tokens`); got != hashOf(tok.ID) {
			t.Errorf("stored hash = %q, want the hex SHA-256 of the value %q", got, hashOf(tok.ID))
		}
		row := scalar[string](t, db, `SELECT hash || '|' || project_id || '|' || user_name || '|' || domain_scoped || '|' ||
		issued_at || '|' || expires_at FROM tokens`)
		if strings.Contains(row, tok.ID) || strings.Contains(row, "SecretValue") {
			t.Errorf("tokens row %q holds the token value", row)
		}
		if n := scalar[int](t, db, `SELECT count(*) FROM tokens WHERE hash = ?`, tok.ID); n != 0 {
			t.Errorf("%d rows keyed by the clear value", n)
		}
		// A second insert of the same value is refused (the hash is the key).
		tx, err := db.BeginTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := db.InsertToken(ctx, tx, tok); err == nil {
			t.Error("InsertToken of the same value twice succeeded")
		}
	})
}

// TestTokenTimes checks that the store keeps the issue and expiry instants
// exactly (to the nanosecond, in UTC), whatever the zone given: expiry is
// judged by compute on its clock against these.
func TestTokenTimes(t *testing.T) {
	t.Parallel()
	storetest.EachEngine(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		db := e.NewDB(t)
		zone := time.FixedZone("UTC+8", 8*3600)
		cases := []struct {
			name            string
			issued, expires time.Time
		}{
			{"utc with nanoseconds", testTime, testTime.Add(ecs.TokenLifetime)},
			{"other zone", testTime.In(zone), testTime.Add(ecs.TokenLifetime).In(zone)},
			{"already expired", testTime.Add(-48 * time.Hour), testTime.Add(-24 * time.Hour)},
		}
		for i, tc := range cases {
			tok := &ecs.Token{ID: "MIIecsd-times-" + tc.name, ProjectID: project, UserName: "u", Issued: tc.issued, Expires: tc.expires}
			inTx(t, db, func(tx *sql.Tx) error { return db.InsertToken(ctx, tx, tok) })
			inTx(t, db, func(tx *sql.Tx) error {
				got, err := db.TokenByID(ctx, tx, tok.ID)
				if err != nil || got == nil {
					t.Fatalf("case %d %s: TokenByID = %v, %v", i, tc.name, got, err)
				}
				if !got.Issued.Equal(tc.issued) || !got.Expires.Equal(tc.expires) {
					t.Errorf("%s: issued %v expires %v, want %v and %v", tc.name, got.Issued, got.Expires, tc.issued, tc.expires)
				}
				if got.Issued.Location() != time.UTC || got.Expires.Location() != time.UTC {
					t.Errorf("%s: times in %v/%v, want UTC", tc.name, got.Issued.Location(), got.Expires.Location())
				}
				return nil
			})
		}
	})
}

func hashOf(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}
