package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ErrNewerSchema is returned by Open for a database whose schema version is
// newer than the one this package knows: a newer ordersync wrote it, and
// this one cannot tell what it would break.
var ErrNewerSchema = errors.New("the database schema is newer than this program's")

// ErrClosed is returned by a Store's methods after Close.
var ErrClosed = errors.New("sqlstore: store is closed")

// DefaultBusyTimeout is how long Open and the writer wait for a SQLite
// database that another connection holds locked before they give up.
const DefaultBusyTimeout = 5 * time.Second

// Option configures Open.
type Option func(*config)

type config struct {
	busyTimeout time.Duration
	readers     int
}

// WithBusyTimeout sets how long a SQLite store waits for a lock that
// another process holds (default DefaultBusyTimeout). PostgreSQL ignores it.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) { c.busyTimeout = max(d, 0) }
}

// WithReaders sets how many connections serve reads at once (default 4).
func WithReaders(n int) Option {
	return func(c *config) { c.readers = max(n, 1) }
}

// Open opens (creating it if need be) the order database that dsn names:
// "sqlite:PATH" for a SQLite file, or a "postgres://" or "postgresql://"
// URL for a PostgreSQL database that exists. It applies the schema
// migrations the database lacks before it returns. ctx bounds the opening
// only; the store lives until Close.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg := config{busyTimeout: DefaultBusyTimeout, readers: 4}
	for _, opt := range opts {
		opt(&cfg)
	}
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		return openSQLite(ctx, path, cfg)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn, cfg)
	}
	return nil, fmt.Errorf("sqlstore: database %q: want sqlite:PATH or a postgres:// URL", redact(dsn))
}

// redact hides the password of a database URL, for errors and logs.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
