package server_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/services/console"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

const consoleConfig = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec: {consoleHost: Chat.Acme.Example}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
spec: {consoleHost: chat.globex.example, suspend: true}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  supervisors:
    - {name: sam, permissions: [Supervise, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: acme}
spec:
  supervisors:
    - {name: sam, permissions: [SuperviseOpenChats]}
    - {name: sue, permissions: [Supervise]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: alice, namespace: acme}
spec: {agent: alice, businessUnits: [sales], maxConversations: 3}
`

// page fetches a console page from the server as the browser on host would.
func page(t *testing.T, env *testenv.Env, host, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, env.Base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestConsoleAnswersOnItsTenantsHost(t *testing.T) {
	env := testenv.Start(t, cluster, consoleConfig)
	const named = `<meta name="switchboard-tenant" content="acme" />`
	// The host is matched without its port and case, as browsers send it.
	code, body := page(t, env, "chat.acme.example:8443", "/supervised")
	if !console.Built() {
		// go test without `make console`: the host is still recognised.
		if code != http.StatusServiceUnavailable {
			t.Errorf("acme's console host, console not built: %d, want 503", code)
		}
		return
	}
	if code != http.StatusOK || !strings.Contains(body, named) {
		t.Errorf("acme's console host: %d, want its console naming acme:\n%s", code, body)
	}
	// A suspended tenant's console answers nowhere; an unknown host only at /.
	if code, _ := page(t, env, "chat.globex.example", "/board"); code != http.StatusNotFound {
		t.Errorf("a suspended tenant's console host answered %d, want 404", code)
	}
	if code, _ := page(t, env, "unknown.example", "/board"); code != http.StatusNotFound {
		t.Errorf("an unknown host answered %d for /board, want 404", code)
	}
	if _, body := page(t, env, "unknown.example", "/"); strings.Contains(body, "switchboard-tenant") {
		t.Errorf("an unknown host's page names a tenant:\n%s", body)
	}

	// Another tenant cannot claim the same host: the configuration is refused, naming it.
	err := env.TryApply(`
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: initech}
spec: {consoleHost: chat.acme.example}
`)
	if err == nil || !strings.Contains(err.Error(), `console host "chat.acme.example" is already another tenant's`) {
		t.Errorf("a second tenant on acme's console host: %v, want a refusal naming the host", err)
	}
	if _, body := page(t, env, "chat.acme.example", "/"); !strings.Contains(body, named) {
		t.Errorf("after the refused claim, acme's host no longer names acme")
	}
}

func TestWhoAmIListsTheUnitsAndPermissionsHeld(t *testing.T) {
	env := testenv.Start(t, cluster, consoleConfig)
	ctx := context.Background()
	grants := func(user string) map[string][]string {
		res, err := env.Auth(env.Login(t, "acme", user)).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{}))
		if err != nil {
			t.Fatalf("WhoAmI as %s: %v", user, err)
		}
		out := map[string][]string{}
		for _, g := range res.Msg.Grants {
			out[g.BusinessUnit] = g.Permissions
		}
		return out
	}
	same := func(who string, got, want map[string][]string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: grants %v, want %v", who, got, want)
		}
		for unit, perms := range want {
			if !slices.Equal(got[unit], perms) {
				t.Errorf("%s on %s: %v, want %v", who, unit, got[unit], perms)
			}
		}
	}
	same("sam", grants("sam"), map[string][]string{"sales": {"Supervise", "AllChats"}, "support": {"SuperviseOpenChats"}})
	same("sue", grants("sue"), map[string][]string{"support": {"Supervise"}})
	all := []string{"Supervise", "SuperviseOpenChats", "AllChats"}
	same("admin", grants("admin"), map[string][]string{"sales": all, "support": all})
	same("alice (an agent)", grants("alice"), map[string][]string{})
}
