package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is returned by LoadNewSQLite when its file exists already.
var ErrExists = errors.New("the database exists already")

// loadingSuffix names the file LoadNewSQLite fills, beside the one it
// creates.
const loadingSuffix = ".loading"

// LoadNewSQLite creates the SQLite database at path, filled by load, and
// writes each page of it about once. load gets a Store (opened with opts)
// on a file beside path (path + ".loading") that has no journal and is
// never fsynced, with its secondary indexes deferred (StartBulkLoad); when
// load returns nil, the indexes are built, the file is switched to WAL
// like any store's, fsynced, and renamed to path, and the directory is
// fsynced. Only then is anything there under path.
//
// Nothing load adds is durable before LoadNewSQLite returns: a crash or an
// error leaves no database at path (a ".loading" file that the next
// LoadNewSQLite removes), so the caller reports nothing as stored until
// then. path must not exist (ErrExists). Compared with loading through a
// Store on path itself, the table is not written twice, to the WAL and
// then by the checkpoint (docs/schema.md).
func LoadNewSQLite(ctx context.Context, path string, load func(context.Context, *Store) error, opts ...Option) error {
	name := "sqlite:" + path
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("sqlstore: %s: %w", name, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlstore: %s: %w", name, err)
	}
	loading := path + loadingSuffix
	if err := removeSQLiteFiles(loading); err != nil {
		return fmt.Errorf("sqlstore: %s: a load left by an earlier run: %w", name, err)
	}
	ok := false
	defer func() {
		if !ok {
			removeSQLiteFiles(loading)
		}
	}()
	if err := loadInto(ctx, loading, name, load, opts); err != nil {
		return err
	}
	if err := finishLoad(ctx, loading, path); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", name, err)
	}
	ok = true
	return nil
}

// loadInto runs load on a store over the file loading, journal off, and
// builds the deferred indexes.
func loadInto(ctx context.Context, loading, name string, load func(context.Context, *Store) error, opts []Option) error {
	s, err := Open(ctx, "sqlite:"+loading, append(opts, func(c *config) error {
		c.loading = true
		return nil
	})...)
	if err != nil {
		return err
	}
	s.name = name // As the caller knows it.
	end, err := s.StartBulkLoad(ctx)
	if err == nil {
		err = load(ctx, s)
	}
	if err == nil {
		err = end(ctx)
	}
	return errors.Join(err, s.Close())
}

// finishLoad switches the file loading to WAL, makes it durable and
// renames it to path.
func finishLoad(ctx context.Context, loading, path string) error {
	db, err := sql.Open("sqlite", loading)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	err = checkSQLite(ctx, db, "WAL")
	// Closing the last connection checkpoints the WAL into the file and
	// deletes it.
	if err := errors.Join(err, db.Close()); err != nil {
		return fmt.Errorf("switch the loaded file to WAL: %w", err)
	}
	if _, err := os.Lstat(loading + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		// Renamed without it, the file would lack what it holds.
		return fmt.Errorf("switch the loaded file to WAL: its WAL was not checkpointed and removed (%v)", err)
	}
	if err := syncPath(loading); err != nil {
		return err
	}
	if err := os.Rename(loading, path); err != nil {
		return err
	}
	return syncPath(filepath.Dir(path))
}

// syncPath fsyncs the file or directory at path.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// removeSQLiteFiles removes the database file at path and any journal, WAL
// or shared-memory file beside it.
func removeSQLiteFiles(path string) error {
	var errs []error
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
