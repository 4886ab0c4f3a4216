package chat_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"net"
	"net/http"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

func TestTwoReplicasOnOneDatabase(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	second := env.StartReplica(t, server.Config{})

	// The agent is connected to the second replica; the visitor starts on the first.
	ann := onlineAt(t, env, second.Base, "acme", "ann")
	v := start(t, env, "acme", "sales", "hello from replica one")
	ann.waitFor(t, "the assignment made on the other replica", assigned(v.conv.Id))
	ann.waitFor(t, "the first message sent through the other replica", func(r *chatv1.AgentStreamResponse) bool {
		return r.GetEvent().GetMessage().GetText() == "hello from replica one"
	})
	if _, err := ann.client.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: v.conv.Id})); err != nil {
		t.Fatal(err)
	}

	// The visitor follows on the second replica; messages come through the first.
	sub := subscribe(t, env.ChatAt(second.Base, v.token), v.conv.Id, 3)
	for i := 0; i < 20; i++ {
		v.send(t, fmt.Sprintf("via one %d", i))
	}
	var texts []string
	for len(texts) < 20 {
		if m := sub.nextStored(t).GetMessage(); m != nil {
			texts = append(texts, m.Text)
		}
	}
	for i, text := range texts {
		if text != fmt.Sprintf("via one %d", i) {
			t.Fatalf("message %d on the other replica: %q", i, text)
		}
	}
	ann.waitFor(t, "the last message", func(r *chatv1.AgentStreamResponse) bool {
		return r.GetEvent().GetMessage().GetText() == "via one 19"
	})
	if msgs := ann.messages(v.conv.Id); len(msgs) != 21 {
		t.Fatalf("the agent on the other replica got %d messages, want 21: %v", len(msgs), msgs)
	}
}

func TestASlowSubscriberBlocksNobody(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	// A replica whose streams buffer only 64 events.
	small := env.StartReplicaWith(t, server.Config{StreamBuffer: 64}, smallSendBuffers)
	online(t, env, "acme", "ann")
	v := start(t, env, "acme", "sales", "")

	// The slow subscriber opens its stream and reads nothing for a while.
	slowCtx, cancelSlow := context.WithCancel(ctx)
	defer cancelSlow()
	// Its own HTTP/1.1 connection with a tiny receive buffer, so that the server's writes
	// to it block as soon as a few events are in flight.
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	tr := &http.Transport{DialContext: dialer.DialContext}
	defer tr.CloseIdleConnections()
	slowClient := chatv1connect.NewChatServiceClient(&http.Client{Transport: tr}, small.Base, connect.WithInterceptors(testenv.Bearer(v.token)))
	slow, err := slowClient.Subscribe(slowCtx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: v.conv.Id}))
	if err != nil {
		t.Fatal(err)
	}
	// Reading its first event proves the stream is open; then it reads nothing.
	if !slow.Receive() {
		t.Fatalf("slow stream: %v", slow.Err())
	}
	fast := subscribe(t, env.ChatAt(small.Base, v.token), v.conv.Id, 0)

	// Large messages fill the slow stream's transport and then its buffer.
	const n = 400
	text := strings.Repeat("x", 2000)
	start := time.Now()
	var wg sync.WaitGroup
	for s := 0; s < 4; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := s; i < n; i += 4 {
				if _, err := v.client.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{
					ConversationId: v.conv.Id, ClientMessageId: fmt.Sprint(i), Text: text})); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d sends took %s with a subscriber reading nothing", n, time.Since(start))

	// The fast subscriber got everything, in order.
	var last int64
	got := 0
	for got < n {
		e := fast.nextStored(t)
		if e.Seq != last+1 {
			t.Fatalf("fast subscriber got seq %d after %d", e.Seq, last)
		}
		last = e.Seq
		if e.GetMessage() != nil {
			got++
		}
	}

	// The slow one reads what was buffered, then its stream ends telling it where to resume.
	var slowLast int64
	for slow.Receive() {
		slowLast = slow.Msg().Event.Seq
	}
	err = slow.Err()
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeAborted {
		t.Fatalf("slow stream ended with %v, want Aborted", err)
	}
	var resume int64 = -1
	for _, d := range ce.Details() {
		if m, derr := d.Value(); derr == nil {
			if o, ok := m.(*chatv1.StreamOverflow); ok {
				resume = o.ResumeAfterSeq
			}
		}
	}
	if resume != slowLast {
		t.Fatalf("overflow says resume after %d; the client's last event was %d", resume, slowLast)
	}
	again := subscribe(t, env.ChatAt(small.Base, v.token), v.conv.Id, resume)
	for seq := resume + 1; seq <= last; seq++ {
		if e := again.nextStored(t); e.Seq != seq {
			t.Fatalf("resumed stream got %d, want %d", e.Seq, seq)
		}
	}
}

func TestShutdownEndsStreamsWithAResumeHint(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	r := env.StartReplica(t, server.Config{})
	online(t, env, "acme", "ann")
	v := start(t, env, "acme", "sales", "hi")
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := env.ChatAt(r.Base, v.token).Subscribe(sctx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: v.conv.Id}))
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for i := 0; i < 3 && stream.Receive(); i++ {
		last = stream.Msg().Event.Seq
	}
	stopped := make(chan error, 1)
	began := time.Now()
	go func() { stopped <- r.Stop() }()
	for stream.Receive() {
	}
	err = stream.Err()
	if testenv.Code(err) != connect.CodeUnavailable || !strings.Contains(err.Error(), fmt.Sprintf("after_seq=%d", last)) {
		t.Fatalf("stream ended with %v, want Unavailable with after_seq=%d", err, last)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not finish")
	}
	t.Logf("shutdown with an open stream took %s", time.Since(began))
}

// smallSendBuffers shrinks the kernel send buffer of every accepted connection, so that a
// client that stops reading makes the server's writes block soon, as over a slow network.
func smallSendBuffers(ln net.Listener) net.Listener { return smallBufListener{ln} }

type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096) //nolint:errcheck
	}
	return c, err
}
