package server

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
)

func TestRefusingNUL(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  proto.Message
		want string // the error's message; "" for none
	}{
		{"a request without NUL passes", &chatv1.StartConversationRequest{WidgetKey: "k", FirstMessage: &chatv1.Message{Text: "hi"}}, ""},
		{"a NUL in a top-level string is named", &authv1.LoginRequest{Tenant: "acme", Username: "a\x00b", Password: "p"},
			"invalid_argument: username: contains a NUL character"},
		{"a NUL in a nested message is named by its path", &chatv1.StartConversationRequest{FirstMessage: &chatv1.Message{Text: "\x00"}},
			"invalid_argument: first_message.text: contains a NUL character"},
		{"a NUL in a list is named with its index", &supervisionv1.WatchConversationsRequest{Conversations: []*supervisionv1.ConversationCursor{
			{ConversationId: "ok"}, {ConversationId: "x\x00"}}}, "invalid_argument: conversations[1].conversation_id: contains a NUL character"},
		{"a NUL in a list of strings is named with its index", &authv1.RevokeSessionsRequest{SessionIds: []string{"a", "\x00"}},
			"invalid_argument: session_ids[1]: contains a NUL character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkNUL(tc.msg)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want || (tc.want != "" && !strings.HasPrefix(got, "invalid_argument")) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
