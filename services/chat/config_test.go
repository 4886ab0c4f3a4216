package chat_test

import (
	"strings"
	"testing"
	"time"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// TestRaisingCapacityServesTheQueueAtOnce changes an agent's capacity the way the operator
// does (the configuration code, on the database), with no restart and no other event: the
// visitor waiting in the queue gets the agent.
func TestRaisingCapacityServesTheQueueAtOnce(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	cat := online(t, env, "acme", "cat") // support, capacity 1
	first := start(t, env, "acme", "support", "hello")
	cat.waitFor(t, "the first conversation", assigned(first.conv.Id))
	waiting := start(t, env, "acme", "support", "anyone there?")
	if waiting.conv.State != chatv1.ConversationState_CONVERSATION_STATE_QUEUED {
		t.Fatalf("the second visitor's conversation is %v; want it queued behind cat's capacity of 1", waiting.conv.State)
	}

	began := time.Now()
	env.Apply(t, strings.Replace(config, "spec: {agent: cat, displayName: Cat, businessUnits: [support], maxConversations: 1}",
		"spec: {agent: cat, displayName: Cat, businessUnits: [support], maxConversations: 2}", 1))
	cat.waitFor(t, "the queued conversation after the capacity change", assigned(waiting.conv.Id))
	t.Logf("assigned %v after the capacity change was committed", time.Since(began))
}
