package chat

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/services/store"
)

// ConfigChannel is where configuration changes that may free capacity are announced (see
// migration 0008); the payload is the tenant's id.
const ConfigChannel = "switchboard_config"

// configSettle gathers the notifications of one configuration change (an operator writes
// several rows) into one dispatch per tenant.
const configSettle = 50 * time.Millisecond

// followConfig dispatches a tenant's queues whenever its configuration may have freed
// capacity, so that raising an agent's capacity serves a waiting visitor at once.
func (s *Server) followConfig(ctx context.Context) {
	changed := make(chan uuid.UUID, 1024)
	go s.dispatchChanged(ctx, changed)
	// Whatever changed while nobody listened is read again on every (re)connection.
	s.db.Listen(ctx, ConfigChannel, func() { s.configChanged(uuid.Nil) }, func(payload string) {
		id, err := uuid.Parse(payload)
		if err != nil {
			return
		}
		select {
		case changed <- id:
		case <-ctx.Done():
		}
	})
}

// dispatchChanged gathers the tenants changed within configSettle and dispatches each once.
func (s *Server) dispatchChanged(ctx context.Context, changed <-chan uuid.UUID) {
	for {
		tenants := map[uuid.UUID]bool{}
		select {
		case <-ctx.Done():
			return
		case id := <-changed:
			tenants[id] = true
		}
		settle := time.After(configSettle)
	gather:
		for {
			select {
			case <-ctx.Done():
				return
			case id := <-changed:
				tenants[id] = true
			case <-settle:
				break gather
			}
		}
		for tenant := range tenants {
			s.configChanged(tenant)
			s.dispatchTenant(ctx, tenant)
		}
	}
}

// dispatchTenant serves the queues of every unit of a tenant, as far as capacity allows.
func (s *Server) dispatchTenant(ctx context.Context, tenant uuid.UUID) {
	var units []uuid.UUID
	err := s.db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		units, err = store.UnitsWithQueue(ctx, tx)
		return err
	})
	if err != nil {
		slog.Warn("dispatch after a configuration change", "tenant", tenant, "err", err)
		return
	}
	s.dispatchUnits(ctx, tenant, units...)
}

// OnConfigChange has fn told of each tenant whose configuration changed (its limits,
// suspension, capacity…), and of uuid.Nil when any may have changed unheard (the
// listener reconnected). Call it before Run.
func (s *Server) OnConfigChange(fn func(tenant uuid.UUID)) {
	s.configHooks = append(s.configHooks, fn)
}

func (s *Server) configChanged(tenant uuid.UUID) {
	s.widgetKeys.forget(tenant)
	for _, fn := range s.configHooks {
		fn(tenant)
	}
}
