package server

import (
	"errors"
	"net/http"

	"connectrpc.com/connect"
)

// secure gives every answer the headers that make sense whatever it is, and refuses
// requests a browser makes for a page of another origin that could change something.
//
// The console and the widget call the API from Switchboard's own origin (the widget from
// its frame), and no cookie authenticates anything, so a browser's cross-origin POST is
// never one of theirs: refusing it (Sec-Fetch-Site, else Origin against Host, as
// net/http's CrossOriginProtection does) means a page the tenant does not allow cannot use
// the widget key from its own scripts either. Clients that are not browsers send neither
// header and are not concerned.
func secure(next http.Handler) http.Handler {
	protect := http.NewCrossOriginProtection()
	errs := connect.NewErrorWriter()
	protect.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := connect.NewError(connect.CodePermissionDenied, errors.New(crossOriginRefused))
		if errs.IsSupported(r) {
			errs.Write(w, r, err) //nolint:errcheck // the client went away
			return
		}
		http.Error(w, crossOriginRefused, http.StatusForbidden)
	}))
	inner := protect.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Answers are what their Content-Type says, never guessed at; they are framed by
		// nobody and run nothing when opened in a browser. Pages (the console, the
		// widget's frame) set their own policy over this one.
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "same-origin")
		inner.ServeHTTP(w, r)
	})
}

const crossOriginRefused = "a browser page of another origin may not call Switchboard's API; the console and the widget call it from Switchboard's own origin"
