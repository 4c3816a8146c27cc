package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// programs are what netsim runs in the namespaces: the lab itself for the
// relays and its own helpers, the operator's ordersync for the nodes.
type programs struct {
	lab  string
	node string
}

// operatorPackage is the operator's program, which netsim's nodes run.
const operatorPackage = "github.com/ordersync/ordersync/cmd/ordersync"

const orderSyncUsage = "the operator's ordersync `program` to run as the nodes (default: ordersync beside this program, else built with go build " + operatorPackage + " from this module, which is the checkout's)"

// findOrdersync returns the ordersync program netsim's nodes run: path
// when given; else an ordersync beside this program; else one that go
// build makes in dir from the lab module, whose go.mod points at the
// checkout it lives in, so that the nodes run the library's code as it is.
func findOrdersync(ctx context.Context, path, dir string, stderr io.Writer) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("--ordersync: %w", err)
		}
		return filepath.Abs(path)
	}
	if exe, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(exe), "ordersync")
		if st, err := os.Stat(beside); err == nil && !st.IsDir() && beside != exe {
			return beside, nil
		}
	}
	out := filepath.Join(dir, "ordersync")
	fmt.Fprintf(stderr, "netsim: building %s\n", operatorPackage)
	build := exec.CommandContext(ctx, "go", "build", "-o", out, operatorPackage)
	build.Stderr = stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building %s (run from the lab module, or give --ordersync): %w", operatorPackage, err)
	}
	return out, nil
}
