package floodbench

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"
)

// bareServer is a net/http server speaking HTTP/2 that answers every call with one
// refusal, recorded once, and does nothing else: flooded in the server's process instead
// of the server (Options.Floor), it shows what the flood costs the server's process, and
// the victim, in net/http alone. Close stops it.
func bareServer() (*http.Server, string, error) {
	refusal := connect.NewError(connect.CodeResourceExhausted, errors.New("you are sending messages too fast (at most 1 a second); retry in 1.0s"))
	hint, err := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)})
	if err != nil {
		return nil, "", err
	}
	refusal.AddDetail(hint)
	rec := httptest.NewRecorder()
	call := httptest.NewRequest(http.MethodPost, "/", nil)
	call.Header.Set("Content-Type", "application/proto")
	if err := connect.NewErrorWriter().Write(rec, call, refusal); err != nil {
		return nil, "", err
	}
	status, contentType, body := rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Protocols: p, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck // the refusal is the same either way
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		w.Write(body) //nolint:errcheck // the client went away
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	return srv, "http://" + ln.Addr().String(), nil
}
