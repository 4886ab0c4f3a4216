package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/store"
)

// TestAgentsStatusHistoryIsRecordedWhateverChangesIt changes an agent's status the ways
// the services do and checks the intervals the trigger keeps: one open at a time, changes
// within one instant collapsed, and history past 400 days dropped.
func TestAgentsStatusHistoryIsRecordedWhateverChangesIt(t *testing.T) {
	url := pgtest.NewDatabase(t, cluster)
	ctx := context.Background()
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	alpha, _ := seed(t, url)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	history := func() string {
		t.Helper()
		var s string
		if err := conn.QueryRow(ctx, `SELECT string_agg(status || CASE WHEN ended_at IS NULL THEN '*' ELSE '' END, ' ' ORDER BY started_at)
			FROM agent_status_intervals WHERE tenant_id = $1`, alpha).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := history(); got != "offline*" {
		t.Fatalf("a new agent's history: %q; want offline*", got)
	}
	// Old history, then changes in separate transactions, then two within one transaction.
	exec(`INSERT INTO agent_status_intervals (tenant_id, agent_id, started_at, status, ended_at)
		SELECT tenant_id, agent_id, now() - interval '500 days', 'available', now() - interval '450 days' FROM agents WHERE tenant_id = $1`, alpha)
	for _, status := range []string{"available", "busy"} {
		exec(`UPDATE agents SET status = $2, status_changed_at = clock_timestamp() WHERE tenant_id = $1`, alpha, status)
	}
	exec(`UPDATE agents SET chosen_status = 'away' WHERE tenant_id = $1`, alpha) // not a status change
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, status := range []string{"away", "offline"} {
			if _, err := tx.Exec(ctx, `UPDATE agents SET status = $2 WHERE tenant_id = $1`, alpha, status); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := history()
	if got != "offline available busy away offline*" && got != "offline available busy offline*" {
		t.Fatalf("history %q; want the 500-day-old interval gone and offline available busy (away) offline*", got)
	}
	if strings.Count(got, "*") != 1 {
		t.Fatalf("history %q has more than one open interval", got)
	}
}
