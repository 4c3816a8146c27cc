package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/zeroex"
)

// meshClientDir holds the test of 0x Mesh's published client: its
// package.json and package-lock.json pin @0x/mesh-rpc-client 9.4.2 (with
// websocket pinned to a registry version, as its own tree points at a git
// URL).
const meshClientDir = "testdata/meshclient"

// TestMeshClient runs 0x Mesh's published TypeScript client against a real
// node: add orders, page them back, read stats, subscribe and see ADDED
// and EXPIRED, see an expired order rejected with OrderExpired. It installs
// the client with npm ci when it is not installed. It skips where node or
// npm is missing, except under CI=true, where it fails.
func TestMeshClient(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed; CI needs it for the test of 0x Mesh's client (.ci/run installs it)", tool)
			}
			t.Skipf("SKIPPING the test of 0x Mesh's client: %s is not installed", tool)
		}
	}
	if _, err := os.Stat(filepath.Join(meshClientDir, "node_modules", "@0x", "mesh-rpc-client")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
		cmd.Dir = meshClientDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", meshClientDir, err, out)
		}
	}

	dir := t.TempDir()
	bin := buildCLI(t, dir)
	node := startRPCNode(t, bin, false)
	now := time.Now()
	toJSON := func(orders []*zeroex.SignedOrder) []json.RawMessage {
		out := make([]json.RawMessage, len(orders))
		for i, o := range orders {
			b, err := o.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			out[i] = b
		}
		return out
	}
	file := filepath.Join(dir, "orders.json")
	b, err := json.Marshal(map[string][]json.RawMessage{
		"good":     toJSON(ordergen.Generate(ordergen.Options{Seed: 600, Count: 7})),
		"expiring": toJSON(expiringOrders(601, 3, now.Add(15*time.Second).Unix())),
		"expired":  toJSON(expiringOrders(602, 1, now.Add(-time.Minute).Unix())),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "test.js")
	cmd.Dir = meshClientDir
	cmd.Env = append(os.Environ(), "RPC_URL="+node.wsURL(), "ORDERS="+file, "TIMEOUT_MS=60000")
	out, err := cmd.CombinedOutput()
	t.Logf("0x Mesh's client said:\n%s", out)
	if err != nil || !strings.Contains(string(out), "saw ADDED for every order and EXPIRED") {
		t.Fatalf("the client's test failed: %v; node's stderr:\n%s", err, node.Stderr.String())
	}
}
