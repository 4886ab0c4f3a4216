package chat_test

import (
	"testing"

	"github.com/switchboard-chat/switchboard/services/testenv"
)

// TestAnAgentWithTwoStreamsStaysOnlineWhenOneCloses: an agent signed in in two tabs (two
// agent streams on one replica) closes one and goes on taking conversations in the other.
func TestAnAgentWithTwoStreamsStaysOnlineWhenOneCloses(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	first := online(t, env, "acme", "cat")
	second := online(t, env, "acme", "cat")
	first.offline(t)
	v := start(t, env, "acme", "support", "anyone there?")
	if v.conv.Agent != "cat" {
		t.Fatalf("the conversation went to %q; cat still has a stream open", v.conv.Agent)
	}
	second.waitFor(t, "the assignment", assigned(v.conv.Id))
}
