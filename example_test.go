package ordersync_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/libp2p/go-libp2p"

	"github.com/ordersync/ordersync"
)

// everything is a stand-in Subprotocol for the example: it has no orders to
// give and takes none. A node uses the subprotocols of the subprotocols/
// directory.
type everything struct{}

func (everything) Name() string { return "/example/version/0" }
func (everything) HandleOrderSyncRequest(context.Context, *ordersync.Request) (*ordersync.Response, error) {
	return &ordersync.Response{Complete: true}, nil
}
func (everything) HandleOrderSyncResponse(context.Context, *ordersync.Response) (*ordersync.Request, int, error) {
	return nil, 0, nil
}
func (everything) ParseRequestMetadata(json.RawMessage) (interface{}, error)  { return nil, nil }
func (everything) ParseResponseMetadata(json.RawMessage) (interface{}, error) { return nil, nil }
func (everything) GenerateFirstRequestMetadata() (json.RawMessage, error)     { return nil, nil }

// A node makes one Service on its host, gets orders once at start-up, then
// keeps getting them in the background.
func Example() {
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	service := ordersync.New(ctx, ordersync.NewHostNode(h), []ordersync.Subprotocol{everything{}})

	// With no peers connected, this waits until ctx ends.
	err = service.GetOrders(ctx, 1)
	fmt.Println(errors.Is(err, context.DeadlineExceeded), errors.Is(err, ordersync.ErrNoOrders))

	// A node runs this in a goroutine for as long as it runs.
	err = service.PeriodicallyGetOrders(ctx, 1, time.Minute)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// true true
	// true
}
