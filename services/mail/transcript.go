// Package mail sends conversation transcripts through a tenant's SMTP relay. A transcript
// holds what the visitor saw: messages and system events, never whispers or drafts.
package mail

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/services/store"
)

// ErrBadAddress is returned for a recipient that is not one plain email address.
var ErrBadAddress = errors.New("not an email address")

// Recipient checks that to is one plain email address and returns it.
func Recipient(to string) (string, error) {
	if strings.ContainsAny(to, "\r\n,;<>") {
		return "", ErrBadAddress
	}
	a, err := mail.ParseAddress(to)
	if err != nil || a.Name != "" {
		return "", ErrBadAddress
	}
	return a.Address, nil
}

// Transcript renders the visitor-visible events as a plain-text mail body.
func Transcript(events []*store.Event) string {
	var b strings.Builder
	for _, e := range events {
		if e.Visibility != store.VisibleToAll {
			continue // whispers are for staff only
		}
		at := e.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		switch e.Kind {
		case store.KindMessage:
			who := e.AuthorName
			if who == "" {
				who = e.AuthorKind
			}
			fmt.Fprintf(&b, "[%s] %s: %s\n", at, who, e.Body)
		case store.KindSystem:
			fmt.Fprintf(&b, "[%s] — %s %s\n", at, e.SystemKind, strings.TrimSpace(e.AgentName+" "+e.Body))
		}
	}
	return b.String()
}

// Send mails a transcript to one recipient through the relay.
func Send(relay *store.SMTPConfig, to, subject, body string) error {
	msg := &bytes.Buffer{}
	fmt.Fprintf(msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		relay.From, to, mime.QEncoding.Encode("utf-8", subject), time.Now().UTC().Format(time.RFC1123Z))
	msg.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	var auth smtp.Auth
	if relay.Username != "" {
		auth = smtp.PlainAuth("", relay.Username, relay.Password, relay.Host)
	}
	addr := net.JoinHostPort(relay.Host, strconv.Itoa(relay.Port))
	if err := smtp.SendMail(addr, auth, relay.From, []string{to}, msg.Bytes()); err != nil {
		return fmt.Errorf("sending through %s: %w", addr, err)
	}
	return nil
}
