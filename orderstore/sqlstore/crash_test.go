package sqlstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// crashChildEnv, set, makes the test binary the writer that
// TestSQLiteSurvivesKill kills: it adds batches to the database the
// variable names and prints each total once AddOrders has returned.
const crashChildEnv = "SQLSTORE_CRASH_CHILD_DB"

// crashBatch is how many orders the child adds per AddOrders call.
const crashBatch = 500

func crashChild() {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, "sqlite:"+os.Getenv(crashChildEnv))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		if _, err := s.AddOrders(ctx, storetest.Orders(i*crashBatch, crashBatch)); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("added", (i+1)*crashBatch)
	}
}

// TestSQLiteSurvivesKill kills a writing process with SIGKILL, mid-write,
// and checks the database: every order AddOrders reported is there, and
// what is there is whole batches, each order intact, none twice.
func TestSQLiteSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	reported := 0
	for sc.Scan() && reported < 20*crashBatch {
		line := sc.Text()
		n, ok := strings.CutPrefix(line, "added ")
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %s", line)
		}
		reported, _ = strconv.Atoi(n)
	}
	// The child is inside its next AddOrders (it loops without pause).
	cmd.Process.Kill()
	cmd.Wait()
	if reported < 20*crashBatch {
		t.Fatalf("the child stopped after %d orders", reported)
	}

	s := open(t, "sqlite:"+path)
	got := pageAllHashes(t, s)
	if len(got) < reported {
		t.Fatalf("after kill -9: %d orders stored, but AddOrders had reported %d", len(got), reported)
	}
	if len(got)%crashBatch != 0 {
		t.Fatalf("after kill -9: %d orders stored, not a whole number of batches of %d", len(got), crashBatch)
	}
	if want := sortedHashes(t, storetest.Orders(0, len(got))); !slices.Equal(got, want) {
		t.Fatalf("after kill -9: the %d stored orders are not the first %d added", len(got), len(got))
	}
	checkIntegrity(t, path)
	t.Logf("killed after %d reported orders; %d stored", reported, len(got))
}
