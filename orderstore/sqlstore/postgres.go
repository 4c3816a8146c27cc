package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// openPostgres opens the PostgreSQL database that url names, through pgx's
// database/sql driver, and brings its schema up to date. Readers and the
// writer share one pool; the writer still commits one group at a time.
func openPostgres(ctx context.Context, url string, cfg config) (*Store, error) {
	name := redact(url)
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", name, err)
	}
	db.SetMaxOpenConns(cfg.readers + 1)
	db.SetMaxIdleConns(cfg.readers + 1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: %s: cannot connect: %w", name, err)
	}
	if err := migrate(ctx, db, postgresDialect); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: %s: %w", name, err)
	}
	s := newStore(postgresDialect, name, db, db)
	if err := s.startFollowing(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlstore: %s: %w", name, err)
	}
	return s, nil
}
