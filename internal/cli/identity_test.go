package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIdentityFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.key")
	first, err := LoadOrCreateIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %v, want 0600", perm)
	}
	again, err := LoadOrCreateIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Equals(again) {
		t.Error("second load gave a different key: the peer ID would change between runs")
	}

	garbage := filepath.Join(t.TempDir(), "garbage.key")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateIdentity(garbage); err == nil || !strings.Contains(err.Error(), garbage) {
		t.Errorf("garbage key file: got %v, want an error naming the file", err)
	}
	huge := filepath.Join(t.TempDir(), "huge.key")
	if err := os.WriteFile(huge, make([]byte, maxIdentitySize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateIdentity(huge); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized key file: got %v, want a size error", err)
	}
	if _, err := LoadOrCreateIdentity(filepath.Join(t.TempDir(), "no", "such", "dir", "k")); err == nil {
		t.Error("key file in a missing directory: no error")
	}
}
