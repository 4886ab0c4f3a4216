package limits

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
)

// FuzzWidgetKeyIsTheOneConnectDecodes: the widget key the early refusal reads from a
// body, protobuf or JSON, is the key Connect then decodes from it, whenever it decodes;
// a body Connect would refuse may have a key or none. Nothing panics.
func FuzzWidgetKeyIsTheOneConnectDecodes(f *testing.F) {
	for _, m := range []*chatv1.StartConversationRequest{
		{WidgetKey: "wk_acme", BusinessUnit: "sales"},
		{BusinessUnit: "sales", VisitorName: "Vic", WidgetKey: "wk_x", FirstMessage: &chatv1.Message{Text: "hello", ClientMessageId: "c1"}},
		{},
	} {
		b, _ := proto.Marshal(m)
		f.Add(b)
		f.Add(append(b, b...)) // a field repeated: the last one counts
		j, _ := protojson.Marshal(m)
		f.Add(j)
	}
	f.Add([]byte(`{"widget_key": "wk_snake", "businessUnit": "sales"}`))
	f.Add([]byte(`{"widgetKey": "a", "widget_key": "b"}`))
	f.Add([]byte(`{"widgetKey": null}`))
	f.Add([]byte{0x0a, 0x02, 0xff, 0xfe})
	f.Fuzz(func(t *testing.T, body []byte) {
		if key, ok := protoWidgetKey(body); ok {
			var m chatv1.StartConversationRequest
			if proto.Unmarshal(body, &m) == nil && m.WidgetKey != key {
				t.Fatalf("protobuf %x: read %q early, Connect decodes %q", body, key, m.WidgetKey)
			}
		}
		if key, ok := jsonWidgetKey(body); ok {
			var m chatv1.StartConversationRequest
			if protojson.Unmarshal(body, &m) == nil && m.WidgetKey != key {
				t.Fatalf("JSON %s: read %q early, Connect decodes %q", body, key, m.WidgetKey)
			}
		}
	})
}
