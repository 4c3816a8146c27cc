package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ordersync/ordersync/orderstore/sqlstore/internal/driver"
)

// ErrNewerSchema is returned by Open for a database whose schema version is
// newer than the one this package knows: a newer ordersync wrote it, and
// this one cannot tell what it would break.
var ErrNewerSchema = errors.New("the database schema is newer than this program's")

// ErrClosed is returned by a Store's methods after Close.
var ErrClosed = errors.New("sqlstore: store is closed")

// ErrDriverNotLinked is returned by Open for a database whose subpackage
// the program does not import; the error names the import to add.
var ErrDriverNotLinked = errors.New("the database's driver is not linked into this program")

// DefaultBusyTimeout is how long Open and the writer wait for a SQLite
// database that another connection holds locked before they give up.
const DefaultBusyTimeout = 5 * time.Second

// Option configures Open. An option given a value out of its range makes
// Open fail with an error that names the option.
type Option func(*config) error

type config struct {
	busyTimeout time.Duration
	readers     int
	// expiry and capacity (life.go)
	expiry   bool
	margin   time.Duration
	now      func() time.Time
	capacity int
	// loading opens a SQLite file that LoadNewSQLite fills: no journal,
	// no fsync (loadnew.go).
	loading bool
}

// MaxReaders is the most connections WithReaders accepts.
const MaxReaders = 256

// WithBusyTimeout sets how long a SQLite store waits for a lock that
// another process holds (default DefaultBusyTimeout; 0 does not wait).
// PostgreSQL ignores it. A negative d is refused.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("sqlstore: WithBusyTimeout(%s): negative", d)
		}
		c.busyTimeout = d
		return nil
	}
}

// WithReaders sets how many connections serve reads at once, 1 to
// MaxReaders (default 4).
func WithReaders(n int) Option {
	return func(c *config) error {
		if n < 1 || n > MaxReaders {
			return fmt.Errorf("sqlstore: WithReaders(%d): want 1 to %d", n, MaxReaders)
		}
		c.readers = n
		return nil
	}
}

// Open opens (creating it if need be) the order database that dsn names:
// "sqlite:PATH" for a SQLite file, or a "postgres://" or "postgresql://"
// URL for a PostgreSQL database that exists. The database's subpackage
// must be linked (imported for its side effect, like a database/sql
// driver): orderstore/sqlstore/sqlite or orderstore/sqlstore/postgres;
// without it Open fails with ErrDriverNotLinked. It applies the schema
// migrations the database lacks before it returns. ctx bounds the opening
// only; the store lives until Close.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg := config{busyTimeout: DefaultBusyTimeout, readers: 4}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		if err := linked("sqlite", dsn); err != nil {
			return nil, err
		}
		path := strings.TrimPrefix(dsn, "sqlite:")
		return withLimits(ctx, cfg)(openSQLite(ctx, path, cfg))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if err := linked("postgres", dsn); err != nil {
			return nil, err
		}
		return withLimits(ctx, cfg)(openPostgres(ctx, dsn, cfg))
	}
	return nil, fmt.Errorf("sqlstore: database %q: want sqlite:PATH or a postgres:// URL", redact(dsn))
}

// withLimits returns what sets up the expiry and capacity cfg asks for on
// a store just opened.
func withLimits(ctx context.Context, cfg config) func(*Store, error) (*Store, error) {
	return func(s *Store, err error) (*Store, error) {
		if err != nil {
			return nil, err
		}
		if err := s.startLimits(ctx, cfg); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}
}

// linked checks that the subpackage of the database kind is linked.
func linked(kind, dsn string) error {
	if _, ok := driver.Lookup(kind); ok {
		return nil
	}
	return fmt.Errorf("sqlstore: %s: %w: add import _ \"github.com/ordersync/ordersync/orderstore/sqlstore/%s\"", redact(dsn), ErrDriverNotLinked, kind)
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
