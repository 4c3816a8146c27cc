package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// maxIdentitySize bounds an identity file: a marshalled Ed25519 key is 68
// bytes and an RSA one a few KB.
const maxIdentitySize = 64 << 10

// LoadOrCreateIdentity returns the libp2p private key in the file at path
// (crypto.MarshalPrivateKey format), creating the file with a new Ed25519
// key and mode 0600 if it does not exist, so that a node keeps its peer ID
// across runs.
func LoadOrCreateIdentity(path string) (crypto.PrivKey, error) {
	key, err := readIdentity(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key, _, err = crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, fmt.Errorf("identity: generate key: %w", err)
	}
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("identity: marshal key: %w", err)
	}
	// O_EXCL: if another process created the file meanwhile, use its key
	// rather than overwrite it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readIdentity(path)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	_, err = f.Write(raw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // Do not leave a truncated key behind.
		return nil, fmt.Errorf("identity: write %s: %w", path, err)
	}
	return key, nil
}

// readIdentity reads a key written by loadOrCreateIdentity. A missing file
// gives an error that matches fs.ErrNotExist.
func readIdentity(path string) (crypto.PrivKey, error) {
	raw, err := ReadBounded(path, maxIdentitySize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("identity: %s: not a libp2p private key (crypto.MarshalPrivateKey format): %v", path, err)
	}
	return key, nil
}
