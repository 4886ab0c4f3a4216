package supervision_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	gosmtp "github.com/emersion/go-smtp"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// inbox is a real SMTP server on loopback that keeps what it receives.
type inbox struct {
	mu   sync.Mutex
	mail []received
}

type received struct {
	from string
	to   []string
	data string
}

type session struct {
	box *inbox
	cur received
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	s.cur.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	s.box.mu.Lock()
	s.box.mail = append(s.box.mail, s.cur)
	s.box.mu.Unlock()
	return nil
}

func startInbox(t *testing.T) (*inbox, int) {
	t.Helper()
	box := &inbox{}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return &session{box: box}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { srv.Close() })
	return box, ln.Addr().(*net.TCPAddr).Port
}

func TestTranscriptByMailHoldsNoWhisper(t *testing.T) {
	box, port := startInbox(t)
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	ann, _ := agentOnline(t, env, "acme", "ann")
	conv, visitor, _ := visitorStart(t, env, "sales")
	sam := env.Supervision(env.Login(t, "acme", "sam"))

	t.Run("without a relay the tenant is told to configure one", func(t *testing.T) {
		_, err := sam.SendTranscript(ctx, connect.NewRequest(&supervisionv1.SendTranscriptRequest{ConversationId: conv.Id, To: "vera@example.com"}))
		if testenv.Code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "spec.smtp") {
			t.Fatalf("got %v", err)
		}
	})
	env.Apply(t, fmt.Sprintf(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec: {smtp: {host: 127.0.0.1, port: %d, from: support@acme.example}}
`, port))

	if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv.Id})); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv.Id, ClientMessageId: "a", Text: "Your order ships Monday"})); err != nil {
		t.Fatal(err)
	}
	if _, err := sam.Whisper(ctx, connect.NewRequest(&supervisionv1.WhisperRequest{ConversationId: conv.Id, ClientMessageId: "w", Text: "SECRET upsell them"})); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.UpdateDraft(ctx, connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: conv.Id, Text: "SECRET draft"})); err != nil {
		t.Fatal(err)
	}
	_ = visitor
	for _, bad := range []string{"", "not an address", "a@b.example\r\nBcc: x@evil.example", "Vera <vera@example.com>", "a@b.example, c@d.example"} {
		if _, err := sam.SendTranscript(ctx, connect.NewRequest(&supervisionv1.SendTranscriptRequest{ConversationId: conv.Id, To: bad})); testenv.Code(err) != connect.CodeInvalidArgument {
			t.Fatalf("recipient %q: %v", bad, err)
		}
	}
	if _, err := sam.SendTranscript(ctx, connect.NewRequest(&supervisionv1.SendTranscriptRequest{ConversationId: conv.Id, To: "vera@example.com"})); err != nil {
		t.Fatal(err)
	}
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.mail) != 1 {
		t.Fatalf("%d mails received, want 1", len(box.mail))
	}
	m := box.mail[0]
	if m.from != "support@acme.example" || len(m.to) != 1 || m.to[0] != "vera@example.com" {
		t.Fatalf("envelope from %q to %v", m.from, m.to)
	}
	if !strings.Contains(m.data, "Vera: hello") || !strings.Contains(m.data, "Ann: Your order ships Monday") {
		t.Fatalf("the transcript lacks the conversation:\n%s", m.data)
	}
	if strings.Contains(m.data, "SECRET") {
		t.Fatalf("the mailed transcript holds a whisper or a draft:\n%s", m.data)
	}
}
