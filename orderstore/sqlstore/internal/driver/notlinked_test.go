package driver_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
)

// TestNotLinked opens each kind of database from a program that imports
// neither subpackage (this test's): Open must say which import to add.
func TestNotLinked(t *testing.T) {
	for dsn, pkg := range map[string]string{
		"sqlite:" + filepath.Join(t.TempDir(), "s.db"):       "orderstore/sqlstore/sqlite",
		"postgres://u:secret@127.0.0.1:1/db?sslmode=disable": "orderstore/sqlstore/postgres",
		"postgresql://u@127.0.0.1:1/db":                      "orderstore/sqlstore/postgres",
	} {
		s, err := sqlstore.Open(context.Background(), dsn)
		if err == nil {
			s.Close()
			t.Fatalf("%s: opened without its driver", dsn)
		}
		if !errors.Is(err, sqlstore.ErrDriverNotLinked) || !strings.Contains(err.Error(), `import _ "github.com/ordersync/ordersync/`+pkg+`"`) {
			t.Errorf("%s: %v, want ErrDriverNotLinked naming %s", dsn, err, pkg)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the password: %v", dsn, err)
		}
	}
}
