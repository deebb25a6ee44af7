package main

import (
	"context"
	"database/sql"
	"net"
	"net/http"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the engine ecsd's store uses
)

// bareServer is the read-path baseline: a plain net/http server on the
// same route shape as ShowServer, answering the recorded body with no
// signature check, no database and no middleware.
type bareServer struct {
	srv *http.Server
	url string
}

func startBare(body []byte) (*bareServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/{project_id}/cloudservers/{server_id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "0123456789abcdef0123456789abcdef")
		w.Write(body)
	})
	b := &bareServer{srv: &http.Server{Handler: mux}, url: "http://" + ln.Addr().String()}
	go b.srv.Serve(ln)
	return b, nil
}

func (b *bareServer) Close() { b.srv.Close() }

// commitBaseline measures the raw commit rate of SQLite (modernc.org/sqlite)
// with ecsd's durability settings: WAL, synchronous NORMAL, BEGIN
// IMMEDIATE, one connection, one small INSERT per transaction, from
// clients goroutines through database/sql.
func commitBaseline(ctx context.Context, dir string, clients int, d time.Duration) (Result, error) {
	dsn := "file:" + filepath.Join(dir, "commit.db") + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		return Result{}, err
	}
	r := drive(ctx, "baseline/sqlite-commit", clients, d, 0, func(ctx context.Context, id, i int) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, "resize s6.small.1 -> s6.medium.2"); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	return r, nil
}
