package chat

import (
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Limits on what callers send.
const (
	// MaxMessageBytes is the longest message text, in bytes of UTF-8.
	MaxMessageBytes = 4096
	// MaxClientMessageIDBytes is the longest client message id.
	MaxClientMessageIDBytes = 64
	// MaxNameBytes is the longest visitor name.
	MaxNameBytes = 200
	// MaxEmailBytes is the longest email address.
	MaxEmailBytes = 320
	// MaxNoteBytes is the longest transfer note or close reason.
	MaxNoteBytes = 500
	// MaxURLBytes is the longest page URL kept.
	MaxURLBytes = 2048
)

// ParseID parses a required id field, naming the field when it is missing or malformed.
func ParseID(field, s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, rpcerr.Invalid(field, "required")
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, rpcerr.Invalid(field, "%s is not a valid id (a UUID like 123e4567-e89b-12d3-a456-426614174000)", rpcerr.Quote(s))
	}
	return id, nil
}

// checkText checks a message text: present, within MaxMessageBytes, no NUL.
func checkText(field, s string, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return rpcerr.Invalid(field, "empty; a message needs some text")
	}
	return checkLen(field, s, MaxMessageBytes)
}

func checkLen(field, s string, max int) error {
	if len(s) > max {
		return rpcerr.Invalid(field, "%d bytes is over the limit of %d bytes", len(s), max)
	}
	if strings.ContainsRune(s, 0) {
		return rpcerr.Invalid(field, "contains a NUL character")
	}
	if !utf8.ValidString(s) {
		return rpcerr.Invalid(field, "not valid UTF-8")
	}
	return nil
}

func checkClientMessageID(field, s string) error {
	if s == "" {
		return rpcerr.Invalid(field, "required, so that a resend never makes a second message")
	}
	return checkLen(field, s, MaxClientMessageIDBytes)
}

func checkName(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return rpcerr.Invalid(field, "required")
	}
	return checkLen(field, s, 253)
}

func checkEmail(field, s string, required bool) error {
	if s == "" {
		if required {
			return rpcerr.Invalid(field, "required, so that someone can answer")
		}
		return nil
	}
	if err := checkLen(field, s, MaxEmailBytes); err != nil {
		return err
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n<>") {
		return rpcerr.Invalid(field, "%s is not an email address", rpcerr.Quote(s))
	}
	return nil
}

// CheckMessage checks a message's client id and text as SendMessage does.
func CheckMessage(clientMessageID, text string) error {
	if err := checkClientMessageID("client_message_id", clientMessageID); err != nil {
		return err
	}
	return checkText("text", text, true)
}

// CheckNote checks a transfer note or close reason.
func CheckNote(field, s string) error { return checkLen(field, s, MaxNoteBytes) }

// CheckTransfer checks that a transfer names exactly one well-formed target and a short note.
func CheckTransfer(t store.Transfer) error {
	switch {
	case t.AgentName != "":
		if err := checkName("agent", t.AgentName); err != nil {
			return err
		}
	case t.UnitName != "":
		if err := checkName("business_unit", t.UnitName); err != nil {
			return err
		}
	default:
		return rpcerr.Invalid("target", "name an agent or a business_unit")
	}
	return CheckNote("note", t.Note)
}

// Limits of a visitor's profile beyond the name and email.
const (
	// MaxPhoneBytes is the longest phone number.
	MaxPhoneBytes = 40
	// MaxNotesBytes is the longest notes about a visitor.
	MaxNotesBytes = 10000
)

// CheckProfile checks a visitor profile that staff enter: a name, an email or a phone
// number at least, each well-formed. field prefixes the fields' names.
func CheckProfile(field string, p store.Profile) error {
	if strings.TrimSpace(p.Name) == "" && p.Email == "" && strings.TrimSpace(p.Phone) == "" {
		return rpcerr.Invalid(field, "give a name, an email or a phone number")
	}
	if err := checkLen(field+".name", p.Name, MaxNameBytes); err != nil {
		return err
	}
	if err := checkEmail(field+".email", p.Email, false); err != nil {
		return err
	}
	if err := checkLen(field+".phone", p.Phone, MaxPhoneBytes); err != nil {
		return err
	}
	if strings.Trim(p.Phone, "0123456789 +-.()") != "" || (p.Phone != "" && !strings.ContainsAny(p.Phone, "0123456789")) {
		return rpcerr.Invalid(field+".phone", "%s is not a phone number (digits, spaces and + - . ( ) only)", rpcerr.Quote(p.Phone))
	}
	return checkLen(field+".notes", p.Notes, MaxNotesBytes)
}
