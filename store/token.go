package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	ecs "github.com/ecsd-dev/ecsd"
)

// tokenHash is the stored form of a token value.
func tokenHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// InsertToken stores an IAM token by the hash of its value.
func (d *DB) InsertToken(ctx context.Context, tx *sql.Tx, t *ecs.Token) error {
	_, err := d.exec(ctx, tx, `INSERT INTO tokens (hash, project_id, user_name, domain_scoped, issued_at, expires_at)
		VALUES (?,?,?,?,?,?)`, tokenHash(t.ID), t.ProjectID, t.UserName, boolInt(t.DomainScoped), t.Issued.UnixNano(), t.Expires.UnixNano())
	if err != nil {
		return fmt.Errorf("store: insert token: %w", err)
	}
	return nil
}

// TokenByID returns the token of a value, or nil and no error when there
// is none.
func (d *DB) TokenByID(ctx context.Context, tx *sql.Tx, id string) (*ecs.Token, error) {
	t := ecs.Token{ID: id}
	var issued, expires int64
	err := d.queryRow(ctx, tx, `SELECT project_id, user_name, domain_scoped, issued_at, expires_at
		FROM tokens WHERE hash = ?`, tokenHash(id)).Scan(&t.ProjectID, &t.UserName, &t.DomainScoped, &issued, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: token: %w", err)
	}
	t.Issued, t.Expires = time.Unix(0, issued).UTC(), time.Unix(0, expires).UTC()
	return &t, nil
}
