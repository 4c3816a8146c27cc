package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/sirupsen/logrus"
)

// LoadOrdersInto reads and verifies the order file and adds the orders
// that verify to store, reporting on stderr, as loadStoreAs does.
func LoadOrdersInto(ctx context.Context, store orderstore.Store, cmd, path string, stderr io.Writer, log logrus.FieldLogger) error {
	orders, err := ReadOrderFile(path)
	if err != nil {
		return err
	}
	valid, dropped, firstBad := VerifyOrders(orders)
	if firstBad != nil {
		log.WithError(firstBad).Warn("dropping orders whose signature does not verify")
	}
	added, err := store.AddOrders(ctx, valid)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s: %s: %d orders, %d verified, %d rejected (%s), %d duplicates\n",
		cmd, path, len(orders), len(valid), dropped.Total(), dropped, len(valid)-added)
	return nil
}

// LoadKeyOrNil returns the key in the identity file, or nil (a fresh
// identity) when no file is named.
func LoadKeyOrNil(path string) (crypto.PrivKey, error) {
	if path == "" {
		return nil, nil
	}
	return LoadOrCreateIdentity(path)
}
