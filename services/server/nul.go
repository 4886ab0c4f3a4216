package server

import (
	"context"
	"fmt"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/switchboard-chat/switchboard/services/rpcerr"
)

// refuseNUL refuses every request with a NUL character in a string field, naming the
// field. Protobuf decoding already refuses strings that are not UTF-8; NUL is the one
// character left that PostgreSQL cannot store or even compare (SQLSTATE 22021), and no
// name, id or text of the product has a use for it. Checked once here, every rpc answers
// InvalidArgument, not Internal, however deep the field and whatever the handler does.
type refuseNUL struct{}

func (refuseNUL) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := checkNUL(req.Any()); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (refuseNUL) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (refuseNUL) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return next(ctx, nulCheckingConn{conn})
	}
}

// nulCheckingConn checks every message a stream receives.
type nulCheckingConn struct{ connect.StreamingHandlerConn }

func (c nulCheckingConn) Receive(msg any) error {
	if err := c.StreamingHandlerConn.Receive(msg); err != nil {
		return err
	}
	return checkNUL(msg)
}

func checkNUL(msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil
	}
	if field := nulField(m.ProtoReflect(), ""); field != "" {
		return rpcerr.Invalid(field, "contains a NUL character")
	}
	return nil
}

// nulField is the path of the first string field of m (prefixed by prefix) that holds a
// NUL, in the form rpcerr.Invalid names fields ("conversations[2].conversation_id"), or "".
func nulField(m protoreflect.Message, prefix string) string {
	var found string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		path := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			list := v.List()
			for i := range list.Len() {
				if found = nulValue(fd, list.Get(i), fmt.Sprintf("%s[%d]", path, i)); found != "" {
					break
				}
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if strings.ContainsRune(k.String(), 0) {
					found = path
				} else {
					found = nulValue(fd.MapValue(), mv, path)
				}
				return found == ""
			})
		default:
			found = nulValue(fd, v, path)
		}
		return found == ""
	})
	return found
}

func nulValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		if strings.ContainsRune(v.String(), 0) {
			return path
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return nulField(v.Message(), path+".")
	}
	return ""
}
