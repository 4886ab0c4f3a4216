package bench

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Database is the migrated database a benchmark runs on.
type Database struct {
	// URL is the schema owner's connection.
	URL string
	// Description says where it is, for the report.
	Description string
	// Postmaster is the private cluster's postmaster pid, 0 for a given database.
	Postmaster int
	stop       func()
}

// OpenDatabase migrates the database at url or, when url is empty, starts a private
// cluster (localpg) in dir and creates the bench database there. An empty dir means a
// fresh folder under the temp folder, removed by Close; a given dir is kept. name prefixes
// the temp folder and the log lines.
func OpenDatabase(ctx context.Context, url, dir, name string, logf func(string, ...any)) (*Database, error) {
	db := &Database{URL: url, Description: "given by --database-url", stop: func() {}}
	if url == "" {
		keep := dir != ""
		if !keep {
			tmp, err := os.MkdirTemp("", "switchboard-"+strings.ReplaceAll(name, " ", "")+"-")
			if err != nil {
				return nil, fmt.Errorf("creating a folder for the private PostgreSQL: %w", err)
			}
			dir = tmp
		}
		removeDir := func() {
			if !keep {
				os.RemoveAll(dir)
			}
		}
		cluster, err := localpg.Start(ctx, localpg.Options{DataDir: dir, Logf: logf})
		if err != nil {
			removeDir()
			return nil, err
		}
		db.stop = func() {
			if err := cluster.Stop(); err != nil {
				logf("%s: stopping PostgreSQL: %v", name, err)
			}
			removeDir()
		}
		if err := cluster.CreateDatabase(ctx, "switchboard_bench"); err != nil {
			db.Close()
			return nil, err
		}
		db.URL = cluster.URL("switchboard_bench")
		db.Postmaster = PostmasterPID(dir)
		db.Description = "private cluster (localpg) in " + dir
		if !keep {
			db.Description += ", removed at the end"
		}
	}
	if err := store.Migrate(ctx, db.URL); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close stops the private cluster and removes its temp folder; a given database is left
// as it is.
func (d *Database) Close() { d.stop() }
