package supervision_test

import (
	"testing"

	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// sharedConfig adds bob, an agent of both sales and support, to config.
const sharedConfig = config + `
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: bob, namespace: acme}
spec: {agent: bob, displayName: Bob, businessUnits: [sales, support], maxConversations: 4}
`

func TestAnAgentOfSeveralUnitsCountsOnceOnTheBoard(t *testing.T) {
	env := testenv.Start(t, cluster, sharedConfig)
	agentOnline(t, env, "acme", "ann")
	agentOnline(t, env, "acme", "bob")
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	admin := env.Supervision(env.Login(t, "acme", "admin"))
	sue := env.Supervision(env.Login(t, "acme", "sue"))

	// ann (3 slots) and bob (4 slots) are online: two agents, seven free slots, on a board
	// of both units as on the tenant's; bob alone on support's.
	both := figures{
		"agents-by-status": {"available": 2, "busy": 0, "unavailable": 0},
		"slots":            {"free": 7, "used": 0},
		"agents-over-time": {"available": 2},
	}
	boardUntil(t, sam, "", both)
	boardUntil(t, admin, "", both)
	boardUntil(t, sam, "sales", both)
	boardUntil(t, sue, "", figures{"agents-by-status": {"available": 1}, "slots": {"free": 4}})
}

func TestTodaysRatingsOnTheBoardSurviveARestart(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	activity(t, env)
	token := env.Login(t, "acme", "sam")
	today := figures{
		"satisfaction-today":        {"satisfaction": 0.5},
		"ratings-today":             {"ratings": 2},
		"satisfaction-by-criterion": {"welcome": 1, "quality": 0},
	}
	boardUntil(t, supervisionAt(env, env.Base, token), "", today)

	// A process started after the ratings (a restart, or another replica) has counted
	// none of them, and its engine holds no samples from before: the day's figures are
	// read from the ratings stored.
	restarted := env.StartReplica(t, server.Config{})
	boardUntil(t, supervisionAt(env, restarted.Base, token), "", today)
}
