package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SessionTimeout is how long a visit lasts without a page view; the next page view after
// it starts a new session.
const SessionTimeout = 30 * time.Minute

// StoredPageViews is how many page views of a session are kept one by one; the session
// counts the rest.
const StoredPageViews = 200

// Profile is what staff, or the visitor, told about a visitor. A visitor with any of it
// is a contact.
type Profile struct {
	Name  string
	Email string
	Phone string
	Notes string
}

// Visitor is a person who came to a tenant's sites or was entered as a contact.
type Visitor struct {
	ID           uuid.UUID
	Profile      Profile
	IsContact    bool
	Visits       int
	FirstVisitAt *time.Time
	LastSeenAt   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Client is what a visitor's request tells about where it comes from.
type Client struct {
	UserAgent      string
	OS             string
	OSVersion      string
	Browser        string
	BrowserVersion string
	Device         string
	Country        string
}

// Session is one visit.
type Session struct {
	ID         uuid.UUID
	VisitorID  uuid.UUID
	StartedAt  time.Time
	LastSeenAt time.Time
	Site       string
	Referrer   string
	Client     Client
	PageViews  int
	// Pages are the first pages viewed, oldest first, as many as were asked for.
	Pages []PageView
}

// PageView is one page a visitor viewed.
type PageView struct {
	N        int
	ViewedAt time.Time
	URL      string
	Title    string
}

// Visit is what a widget reports when it loads on a page or starts a conversation.
type Visit struct {
	// KeyHash is the hash of the visitor key the widget presented; nil when it has none.
	KeyHash []byte
	// NewKeyHash is the hash of a fresh key, used when KeyHash names no visitor.
	NewKeyHash []byte
	// Site is the origin of the page (scheme and host).
	Site     string
	Referrer string
	Client   Client
	// Page is counted as a page view when its URL is set.
	Page PageView
}

// Visited is the outcome of RecordVisit.
type Visited struct {
	Visitor *Visitor
	Session uuid.UUID
	// Recognised is true when the presented key named a visitor seen before.
	Recognised bool
}

const visitorColumns = `v.visitor_id, v.name, v.email, v.phone, v.notes, v.is_contact, v.visits,
	v.first_visit_at, v.last_seen_at, v.created_at, v.updated_at`

func scanVisitor(row pgx.Row) (*Visitor, error) {
	var v Visitor
	err := row.Scan(&v.ID, &v.Profile.Name, &v.Profile.Email, &v.Profile.Phone, &v.Profile.Notes, &v.IsContact,
		&v.Visits, &v.FirstVisitAt, &v.LastSeenAt, &v.CreatedAt, &v.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &v, err
}

// RecordVisit finds the visitor by its key, or makes a new one with the fresh key; joins
// its current session on the same site, or starts a new one (a new visit); and counts the
// page view. The visitor's row lock serialises a visitor's page loads.
func RecordVisit(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, v Visit) (*Visited, error) {
	out := &Visited{}
	var id uuid.UUID
	if v.KeyHash != nil {
		err := tx.QueryRow(ctx, `SELECT visitor_id FROM visitors WHERE tenant_id = $1 AND key_hash = $2 FOR UPDATE`,
			tenant, v.KeyHash).Scan(&id)
		switch {
		case err == nil:
			out.Recognised = true
		case !errors.Is(err, pgx.ErrNoRows):
			return nil, fmt.Errorf("finding visitor: %w", err)
		}
	}
	if !out.Recognised {
		if err := tx.QueryRow(ctx, `INSERT INTO visitors (tenant_id, key_hash) VALUES ($1, $2) RETURNING visitor_id`,
			tenant, v.NewKeyHash).Scan(&id); err != nil {
			return nil, fmt.Errorf("storing visitor: %w", err)
		}
	}

	err := tx.QueryRow(ctx, `SELECT session_id FROM visitor_sessions
		WHERE tenant_id = $1 AND visitor_id = $2 AND site = $3 AND last_seen_at > now() - make_interval(secs => $4)
		ORDER BY started_at DESC LIMIT 1`, tenant, id, v.Site, SessionTimeout.Seconds()).Scan(&out.Session)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		c := v.Client
		if err := tx.QueryRow(ctx, `INSERT INTO visitor_sessions (tenant_id, visitor_id, site, referrer, user_agent,
			os, os_version, browser, browser_version, device, country)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING session_id`,
			tenant, id, v.Site, v.Referrer, c.UserAgent, c.OS, c.OSVersion, c.Browser, c.BrowserVersion, c.Device, c.Country,
		).Scan(&out.Session); err != nil {
			return nil, fmt.Errorf("starting session: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE visitors SET visits = visits + 1, first_visit_at = coalesce(first_visit_at, now())
			WHERE tenant_id = $1 AND visitor_id = $2`, tenant, id); err != nil {
			return nil, fmt.Errorf("counting visit: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("finding session: %w", err)
	}

	if v.Page.URL != "" {
		var n int
		if err := tx.QueryRow(ctx, `UPDATE visitor_sessions SET page_views = page_views + 1, last_seen_at = now()
			WHERE tenant_id = $1 AND session_id = $2 RETURNING page_views`, tenant, out.Session).Scan(&n); err != nil {
			return nil, fmt.Errorf("counting page view: %w", err)
		}
		if n <= StoredPageViews {
			if _, err := tx.Exec(ctx, `INSERT INTO page_views (tenant_id, session_id, n, url, title) VALUES ($1, $2, $3, $4, $5)`,
				tenant, out.Session, n, v.Page.URL, v.Page.Title); err != nil {
				return nil, fmt.Errorf("storing page view: %w", err)
			}
		}
	} else if _, err := tx.Exec(ctx, `UPDATE visitor_sessions SET last_seen_at = now() WHERE tenant_id = $1 AND session_id = $2`,
		tenant, out.Session); err != nil {
		return nil, fmt.Errorf("touching session: %w", err)
	}
	out.Visitor, err = scanVisitor(tx.QueryRow(ctx, `UPDATE visitors v SET last_seen_at = now()
		WHERE tenant_id = $1 AND visitor_id = $2 RETURNING `+visitorColumns, tenant, id))
	return out, err
}

// FillProfile sets the parts of a visitor's profile that are still empty from what the
// visitor said about itself; what staff wrote is never overwritten by a visitor.
func FillProfile(ctx context.Context, tx pgx.Tx, id uuid.UUID, name, email string) error {
	if name == "" && email == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE visitors SET
		name = CASE WHEN name = '' THEN $2 ELSE name END,
		email = CASE WHEN email = '' THEN $3 ELSE email END,
		updated_at = CASE WHEN (name = '' AND $2 <> '') OR (email = '' AND $3 <> '') THEN now() ELSE updated_at END
		WHERE tenant_id = sb_current_tenant() AND visitor_id = $1`, id, name, email)
	if err != nil {
		return fmt.Errorf("storing the visitor's name: %w", err)
	}
	return nil
}

// GetVisitor reads one visitor of the transaction's tenant.
func GetVisitor(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*Visitor, error) {
	return scanVisitor(tx.QueryRow(ctx, `SELECT `+visitorColumns+` FROM visitors v
		WHERE v.tenant_id = sb_current_tenant() AND v.visitor_id = $1`, id))
}

// ListSessions lists a visitor's latest sessions, newest first, each with its first pages.
func ListSessions(ctx context.Context, tx pgx.Tx, visitor uuid.UUID, limit, pages int) ([]*Session, error) {
	rows, err := tx.Query(ctx, `SELECT session_id, visitor_id, started_at, last_seen_at, site, referrer, user_agent,
		os, os_version, browser, browser_version, device, country, page_views
		FROM visitor_sessions WHERE tenant_id = sb_current_tenant() AND visitor_id = $1
		ORDER BY started_at DESC LIMIT $2`, visitor, limit)
	if err != nil {
		return nil, err
	}
	var out []*Session
	byID := map[uuid.UUID]*Session{}
	var ids []uuid.UUID
	for rows.Next() {
		var s Session
		c := &s.Client
		if err := rows.Scan(&s.ID, &s.VisitorID, &s.StartedAt, &s.LastSeenAt, &s.Site, &s.Referrer, &c.UserAgent,
			&c.OS, &c.OSVersion, &c.Browser, &c.BrowserVersion, &c.Device, &c.Country, &s.PageViews); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, &s)
		byID[s.ID] = &s
		ids = append(ids, s.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) == 0 || pages <= 0 {
		return out, nil
	}
	rows, err = tx.Query(ctx, `SELECT session_id, n, viewed_at, url, title FROM page_views
		WHERE tenant_id = sb_current_tenant() AND session_id = ANY($1) AND n <= $2 ORDER BY session_id, n`, ids, pages)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var p PageView
		if err := rows.Scan(&id, &p.N, &p.ViewedAt, &p.URL, &p.Title); err != nil {
			return nil, err
		}
		byID[id].Pages = append(byID[id].Pages, p)
	}
	return out, rows.Err()
}

// VisitorConversations lists a visitor's latest conversations in units, newest first;
// units nil means every unit.
func VisitorConversations(ctx context.Context, tx pgx.Tx, visitor uuid.UUID, units []uuid.UUID, limit int) ([]*Conversation, error) {
	rows, err := tx.Query(ctx, `SELECT `+conversationColumns+` FROM `+conversationFrom+`
		WHERE c.tenant_id = sb_current_tenant() AND c.visitor_id = $1 AND ($2::uuid[] IS NULL OR c.unit_id = ANY($2))
		ORDER BY c.created_at DESC LIMIT $3`, visitor, units, limit)
	if err != nil {
		return nil, err
	}
	return scanConversations(rows)
}

// VisitorUnits lists the units the visitor has conversations in.
func VisitorUnits(ctx context.Context, tx pgx.Tx, visitor uuid.UUID) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT unit_id FROM conversations
		WHERE tenant_id = sb_current_tenant() AND visitor_id = $1`, visitor)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// ContactCursor continues a list of contacts after the last one of a page.
type ContactCursor struct {
	// Name is the last contact's name as stored.
	Name string
	ID   uuid.UUID
}

// ListContacts lists contacts by name (case-insensitive), then id; query, when set,
// matches part of the name, email or phone.
func ListContacts(ctx context.Context, tx pgx.Tx, query string, after *ContactCursor, limit int) ([]*Visitor, error) {
	pattern := ""
	if query != "" {
		pattern = "%" + likeEscaper.Replace(query) + "%"
	}
	var afterName *string
	var afterID *uuid.UUID
	if after != nil {
		afterName, afterID = &after.Name, &after.ID
	}
	rows, err := tx.Query(ctx, `SELECT `+visitorColumns+` FROM visitors v
		WHERE v.tenant_id = sb_current_tenant() AND v.is_contact
		  AND ($1 = '' OR v.name ILIKE $1 OR v.email ILIKE $1 OR v.phone ILIKE $1)
		  AND ($2::text IS NULL OR (lower(v.name), v.visitor_id) > (lower($2), $3))
		ORDER BY lower(v.name), v.visitor_id LIMIT $4`, pattern, afterName, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Visitor
	for rows.Next() {
		v, err := scanVisitor(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// CreateContact stores a contact entered by staff.
func CreateContact(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, p Profile) (*Visitor, error) {
	return scanVisitor(tx.QueryRow(ctx, `INSERT INTO visitors AS v (tenant_id, name, email, phone, notes)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+visitorColumns, tenant, p.Name, p.Email, p.Phone, p.Notes))
}

// UpdateProfile replaces a visitor's profile.
func UpdateProfile(ctx context.Context, tx pgx.Tx, id uuid.UUID, p Profile) (*Visitor, error) {
	return scanVisitor(tx.QueryRow(ctx, `UPDATE visitors v SET name = $2, email = $3, phone = $4, notes = $5, updated_at = now()
		WHERE v.tenant_id = sb_current_tenant() AND v.visitor_id = $1 RETURNING `+visitorColumns,
		id, p.Name, p.Email, p.Phone, p.Notes))
}

// DeleteContact forgets a contact's profile. A contact entered by staff that never visited
// or chatted is removed altogether; a visitor with visits or conversations stays, without
// a profile, so that the history keeps its shape.
func DeleteContact(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	tag, err := tx.Exec(ctx, `DELETE FROM visitors v WHERE v.tenant_id = sb_current_tenant() AND v.visitor_id = $1
		AND v.is_contact AND v.key_hash IS NULL
		AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.tenant_id = v.tenant_id AND c.visitor_id = v.visitor_id)
		AND NOT EXISTS (SELECT 1 FROM visitor_sessions s WHERE s.tenant_id = v.tenant_id AND s.visitor_id = v.visitor_id)`, id)
	if err != nil {
		return fmt.Errorf("deleting contact: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	tag, err = tx.Exec(ctx, `UPDATE visitors SET name = '', email = '', phone = '', notes = '', updated_at = now()
		WHERE tenant_id = sb_current_tenant() AND visitor_id = $1 AND is_contact`, id)
	if err != nil {
		return fmt.Errorf("deleting contact: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
