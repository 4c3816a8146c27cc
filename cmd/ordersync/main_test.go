package main

import (
	"os"
	"testing"

	"github.com/ordersync/ordersync/testing/pgtest"
	"github.com/ordersync/ordersync/testing/proctest"
)

// cliBuild is the ordersync program the process tests run, built once.
var cliBuild = proctest.Build{Pkg: ".", Name: "ordersync"}

// buildCLI puts the ordersync program into dir.
func buildCLI(t *testing.T, dir string) string { return cliBuild.Into(t, dir) }

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop() // The PostgreSQL cluster of db_test.go, if it started.
	cliBuild.Remove()
	os.Exit(code)
}
