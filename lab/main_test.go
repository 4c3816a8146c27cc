package main

import (
	"os"
	"testing"

	"github.com/ordersync/ordersync/testing/proctest"
)

// The programs the netsim tests run, each built once: the lab, and the
// operator's ordersync beside it, where netsim looks for it first.
var (
	labBuild      = proctest.Build{Pkg: ".", Name: "ordersync-lab"}
	operatorBuild = proctest.Build{Pkg: operatorPackage, Name: "ordersync"}
)

// buildLab puts the lab program and the operator's ordersync into dir and
// returns the lab's path.
func buildLab(t *testing.T, dir string) string {
	t.Helper()
	operatorBuild.Into(t, dir)
	return labBuild.Into(t, dir)
}

func TestMain(m *testing.M) {
	code := m.Run()
	labBuild.Remove()
	operatorBuild.Remove()
	os.Exit(code)
}
