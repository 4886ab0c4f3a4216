package chat_test

import (
	"fmt"
	"strings"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// transferConfig is a sales unit with agents in every state a transfer cares about, a
// support agent, an empty billing unit, a supervisor, and another tenant.
const transferConfig = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  displayName: Sales
  supervisors:
    - {name: sam, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: acme}
spec: {displayName: Support}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: billing, namespace: acme}
spec: {displayName: Billing}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, displayName: Ann, businessUnits: [sales], maxConversations: 2}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ben, namespace: acme}
spec: {agent: ben, displayName: Ben, businessUnits: [sales], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: cat, namespace: acme}
spec: {agent: cat, displayName: Cat, businessUnits: [sales], maxConversations: 1}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: dan, namespace: acme}
spec: {agent: dan, displayName: Dan, businessUnits: [sales], maxConversations: 2}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: fay, namespace: acme}
spec: {agent: fay, displayName: Fay, businessUnits: [sales], maxConversations: 2}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: eve, namespace: acme}
spec: {agent: eve, displayName: Eve, businessUnits: [support], maxConversations: 2}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: gus, namespace: globex}
spec: {agent: gus, displayName: Gus, businessUnits: [sales], maxConversations: 2}
`

// agentLine is what a transfer dialog shows of an agent.
func agentLine(a *chatv1.TransferAgent) string {
	var b strings.Builder
	b.WriteString(a.Agent + " " + strings.TrimPrefix(a.Status.String(), "AGENT_STATUS_"))
	fmt.Fprintf(&b, " %d/%d", a.OpenConversations, a.Capacity)
	if a.CanTakeNow {
		b.WriteString(" can take")
	}
	if a.ServesUnit {
		b.WriteString(" same unit")
	}
	return b.String()
}

func TestListTransferTargets(t *testing.T) {
	env := testenv.Start(t, cluster, transferConfig)
	ctx := ctxT(t)
	setStatus := func(a *agentSession, s chatv1.AgentStatus) {
		t.Helper()
		if _, err := a.client.SetStatus(ctx, connect.NewRequest(&chatv1.SetStatusRequest{Status: s})); err != nil {
			t.Fatal(err)
		}
	}
	// Ann gets the conversation to transfer, then turns busy so that cat gets the next
	// one and is full; ben is free, dan away, fay offline, eve serves another unit.
	ann := online(t, env, "acme", "ann")
	chat := start(t, env, "acme", "sales", "I need help with <b>my order</b>")
	if chat.conv.Agent != "ann" {
		t.Fatalf("the conversation went to %q, want ann", chat.conv.Agent)
	}
	setStatus(ann, chatv1.AgentStatus_AGENT_STATUS_BUSY)
	online(t, env, "acme", "cat")
	if full := start(t, env, "acme", "sales", ""); full.conv.Agent != "cat" {
		t.Fatalf("the second conversation went to %q, want cat", full.conv.Agent)
	}
	ben := online(t, env, "acme", "ben")
	dan := online(t, env, "acme", "dan")
	setStatus(dan, chatv1.AgentStatus_AGENT_STATUS_AWAY)
	eve := online(t, env, "acme", "eve")

	list := func(c chatv1ChatClient, id string) (*chatv1.ListTransferTargetsResponse, error) {
		res, err := c.ListTransferTargets(ctx, connect.NewRequest(&chatv1.ListTransferTargetsRequest{ConversationId: id}))
		if err != nil {
			return nil, err
		}
		return res.Msg, nil
	}
	transferTo := func(agent string) error {
		_, err := ann.client.TransferConversation(ctx, connect.NewRequest(&chatv1.TransferConversationRequest{ConversationId: chat.conv.Id,
			Target: &chatv1.TransferConversationRequest_Agent{Agent: agent}}))
		return err
	}

	t.Run("the owner sees the unit's agents who can take it first, then the others, then other units' agents", func(t *testing.T) {
		got, err := list(ann.client, chat.conv.Id)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, a := range got.Agents {
			lines = append(lines, agentLine(a))
		}
		want := []string{
			"ben AVAILABLE 0/3 can take same unit",
			"dan AWAY 0/2 same unit",
			"fay OFFLINE 0/2 same unit",
			"cat AVAILABLE 1/1 same unit",
			"eve AVAILABLE 0/2 can take",
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Fatalf("agents:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
		if got.Agents[0].DisplayName != "Ben" {
			t.Fatalf("display name %q, want Ben", got.Agents[0].DisplayName)
		}
	})

	t.Run("every unit of the tenant is listed with its agents online", func(t *testing.T) {
		got, err := list(ann.client, chat.conv.Id)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, u := range got.BusinessUnits {
			line := fmt.Sprintf("%s %s %d", u.BusinessUnit, u.DisplayName, u.AgentsOnline)
			if u.Current {
				line += " current"
			}
			lines = append(lines, line)
		}
		// Sales counts ann (busy), ben, cat and dan (away); fay is offline.
		want := "billing Billing 0\nsales Sales 4 current\nsupport Support 1"
		if strings.Join(lines, "\n") != want {
			t.Fatalf("units:\n%s\nwant:\n%s", strings.Join(lines, "\n"), want)
		}
	})

	t.Run("the agents flagged unable to take it are the ones a transfer refuses", func(t *testing.T) {
		for _, agent := range []string{"dan", "fay", "cat"} {
			if err := transferTo(agent); testenv.Code(err) != connect.CodeFailedPrecondition {
				t.Fatalf("transfer to %s: %v, want FailedPrecondition", agent, err)
			}
		}
	})

	refusals := []struct {
		name    string
		client  chatv1ChatClient
		id      string
		code    connect.Code
		mention string
	}{
		{"the visitor of the conversation", chat.client, chat.conv.Id, connect.CodePermissionDenied, "only agents"},
		{"a supervisor of its unit", env.Chat(env.Login(t, "acme", "sam")), chat.conv.Id, connect.CodePermissionDenied, "only agents"},
		{"another agent of its unit", ben.client, chat.conv.Id, connect.CodePermissionDenied, "not assigned to you"},
		{"an agent of another tenant", online(t, env, "globex", "gus").client, chat.conv.Id, connect.CodeNotFound, "conversation not found"},
		{"a malformed conversation id", ann.client, "not-a-uuid", connect.CodeInvalidArgument, "conversation_id"},
		{"a missing conversation id", ann.client, "", connect.CodeInvalidArgument, "conversation_id"},
	}
	for _, r := range refusals {
		t.Run(r.name+" is refused", func(t *testing.T) {
			_, err := list(r.client, r.id)
			if testenv.Code(err) != r.code || !strings.Contains(err.Error(), r.mention) {
				t.Fatalf("got %v, want %v mentioning %q", err, r.code, r.mention)
			}
			if strings.Contains(err.Error(), "my order") {
				t.Fatalf("the refusal leaks the conversation: %v", err)
			}
		})
	}

	t.Run("an agent of another unit who can take it accepts it, and then ann is refused", func(t *testing.T) {
		if err := transferTo("eve"); err != nil {
			t.Fatal(err)
		}
		if _, err := list(ann.client, chat.conv.Id); testenv.Code(err) != connect.CodePermissionDenied {
			t.Fatalf("ann after the transfer: %v, want PermissionDenied", err)
		}
	})

	t.Run("a closed conversation has nowhere to go", func(t *testing.T) {
		if _, err := eve.client.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: chat.conv.Id})); err != nil {
			t.Fatal(err)
		}
		if _, err := list(eve.client, chat.conv.Id); testenv.Code(err) != connect.CodeFailedPrecondition {
			t.Fatalf("got %v, want FailedPrecondition", err)
		}
	})
}
