package main

import (
	"os"
	"testing"

	"github.com/ordersync/ordersync/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop() // The PostgreSQL cluster of db_test.go, if it started.
	cliBuild.remove()
	os.Exit(code)
}
