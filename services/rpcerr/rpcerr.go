// Package rpcerr turns failures the caller cannot fix into Connect errors that say what to
// do (retry or not) and leak nothing: the cause goes to the log.
package rpcerr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5/pgconn"
)

// Internal logs err and returns the error to answer with: Unavailable (retry) when the
// database could not be reached or is shutting down, Canceled when the caller went away,
// Internal otherwise.
func Internal(ctx context.Context, err error) error {
	if ce := new(connect.Error); errors.As(err, &ce) {
		return ce
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() != nil {
			return connect.NewError(connect.CodeCanceled, errors.New("call canceled"))
		}
	}
	if retryable(err) {
		// A warning: while the database is down every call says so, and the errors that
		// need a person should not drown among them.
		slog.WarnContext(ctx, "call failed, answered Unavailable", "err", err)
		return connect.NewError(connect.CodeUnavailable, errors.New("storage is unavailable right now; retry shortly"))
	}
	slog.ErrorContext(ctx, "call failed", "err", err)
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		class := pgErr.Code[:2]
		return class == "08" || class == "53" || class == "57" || pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	// No answer from PostgreSQL at all: the connection failed or was lost.
	return true
}

// Invalid is an InvalidArgument error naming the field at fault.
func Invalid(field, format string, args ...any) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// Errorf is a Connect error with a code and a message for the caller.
func Errorf(code connect.Code, format string, args ...any) error {
	return connect.NewError(code, fmt.Errorf(format, args...))
}

// Quote shortens user input for an error message.
func Quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", strings.ToValidUTF8(s, "?"))
}
