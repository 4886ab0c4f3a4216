package live

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-chat/switchboard/services/store"
)

func TestHub(t *testing.T) {
	tenant, conv := uuid.New(), uuid.New()
	topic := Conversation(tenant, conv)
	event := func(seq int64) Item { return Item{Event: &store.Event{Tenant: tenant, ConversationID: conv, Seq: seq}} }

	t.Run("a subscriber that reads nothing never blocks the publisher and is ended with ErrOverflow", func(t *testing.T) {
		h := NewHub(32)
		stuck := h.Subscribe(topic)
		reader := h.Subscribe(topic)
		got := make(chan int64, 200)
		go func() {
			for it := range reader.C() {
				got <- it.Event.Seq
			}
		}()
		done := make(chan struct{})
		go func() {
			for seq := int64(1); seq <= 100; seq++ {
				h.Publish(topic, event(seq))
				time.Sleep(time.Millisecond) // the reader keeps up; the stuck one cannot
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("publishing blocked")
		}
		select {
		case <-stuck.Done():
		default:
			t.Fatal("the stuck subscription was not ended")
		}
		if !errors.Is(stuck.Err(), ErrOverflow) {
			t.Fatalf("stuck subscription ended with %v", stuck.Err())
		}
		for want := int64(1); want <= 100; want++ {
			select {
			case seq := <-got:
				if seq != want {
					t.Fatalf("reader got %d, want %d", seq, want)
				}
			case <-time.After(time.Second):
				t.Fatalf("reader missed %d", want)
			}
		}
		if h.HasSubscribers(topic) && h.Subscribers() != 1 {
			t.Fatalf("%d subscribers left, want the reader only", h.Subscribers())
		}
	})

	t.Run("topics are separate", func(t *testing.T) {
		h := NewHub(4)
		other := h.Subscribe(Conversation(tenant, uuid.New()))
		h.Publish(topic, event(1))
		select {
		case it := <-other.C():
			t.Fatalf("got another conversation's event %v", it)
		default:
		}
	})

	t.Run("shutdown ends every subscription and refuses new ones", func(t *testing.T) {
		h := NewHub(4)
		s := h.Subscribe(topic)
		h.Shutdown()
		if !errors.Is(s.Err(), ErrShutdown) {
			t.Fatalf("got %v", s.Err())
		}
		if late := h.Subscribe(topic); !errors.Is(late.Err(), ErrShutdown) {
			t.Fatalf("a subscription after shutdown: %v", late.Err())
		}
	})

	t.Run("after missed notices every subscription is told once, whatever its topics, and a full one overflows", func(t *testing.T) {
		h := NewHub(2)
		many := h.Subscribe(topic, Agent(tenant, uuid.New()), Signals(tenant))
		one := h.Subscribe(topic)
		full := h.Subscribe(Activity(tenant))
		h.Publish(Activity(tenant), event(1))
		h.Publish(Activity(tenant), event(2))
		h.Missed()
		for name, s := range map[string]*Subscription{"three topics": many, "one topic": one} {
			select {
			case it := <-s.C():
				if !it.Missed {
					t.Fatalf("%s: got %+v, want a Missed item", name, it)
				}
			default:
				t.Fatalf("%s: no Missed item", name)
			}
			select {
			case it := <-s.C():
				t.Fatalf("%s: a second item %+v", name, it)
			default:
			}
		}
		if !errors.Is(full.Err(), ErrOverflow) {
			t.Fatalf("a subscription with a full buffer ended with %v, want ErrOverflow so its client reads again", full.Err())
		}
	})

	t.Run("closing removes the subscription from its topics", func(t *testing.T) {
		h := NewHub(4)
		s := h.Subscribe(topic, Agent(tenant, uuid.New()))
		s.Close()
		if h.Subscribers() != 0 || s.Err() != nil {
			t.Fatalf("after close: %d subscribers, err %v", h.Subscribers(), s.Err())
		}
	})
}

func TestNoticeEncoding(t *testing.T) {
	replica := uuid.New()
	in := []Notice{
		{Kind: NoticeEvent, Tenant: uuid.New(), ID: uuid.New(), Seq: 42},
		{Kind: NoticeDraft, Tenant: uuid.New(), ID: uuid.New(), Seq: 7, Extra: "agent"},
		{Kind: NoticeAssignment, Tenant: uuid.New(), ID: uuid.New(), Ref: uuid.New()},
	}
	var sb strings.Builder
	sb.WriteString(replica.String())
	for _, n := range in {
		encode(&sb, n)
	}
	from, out, err := decode(sb.String())
	if err != nil || from != replica || len(out) != len(in) {
		t.Fatalf("decode: %v %v %d", err, from, len(out))
	}
	for i := range in {
		if out[i] != in[i] {
			t.Fatalf("notice %d: got %+v, want %+v", i, out[i], in[i])
		}
	}
	for _, bad := range []string{"", "not-a-uuid", replica.String() + ";e,x", replica.String() + ";e,1,2,3,4,5"} {
		if _, _, err := decode(bad); err == nil {
			t.Fatalf("decode(%q) accepted a bad payload", bad)
		}
	}
}
