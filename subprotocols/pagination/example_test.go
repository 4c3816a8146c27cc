package pagination_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// afterRequest and afterResponse are the metadata of a made-up version
// whose cursor is one field, "after".
type afterRequest struct {
	OrderFilter *orderfilter.Filter `json:"orderfilter"`
	After       common.Hash         `json:"after"`
}

type afterResponse struct {
	Through common.Hash `json:"through"`
}

// afterCodec is that version's Codec.
type afterCodec struct{}

func (afterCodec) Name() string { return "/pagination-example/version/1" }

func (afterCodec) ParseRequest(raw json.RawMessage) (*afterRequest, error) {
	md := &afterRequest{}
	if len(bytes.TrimSpace(raw)) == 0 {
		return md, nil // a first request
	}
	if err := json.Unmarshal(raw, md); err != nil {
		return nil, fmt.Errorf("example: request metadata: %w", err)
	}
	return md, nil
}

func (afterCodec) ParseResponse(raw json.RawMessage) (*afterResponse, error) {
	md := &afterResponse{}
	if err := json.Unmarshal(raw, md); err != nil {
		return nil, fmt.Errorf("example: response metadata: %w", err)
	}
	return md, nil
}

func (afterCodec) Request(filter *orderfilter.Filter, cursor common.Hash, _ *afterResponse) (*afterRequest, error) {
	return &afterRequest{OrderFilter: filter, After: cursor}, nil
}

func (afterCodec) RequestCursor(md *afterRequest) (*orderfilter.Filter, common.Hash, error) {
	return md.OrderFilter, md.After, nil
}

func (afterCodec) Response(_ *afterRequest, through common.Hash) *afterResponse {
	return &afterResponse{Through: through}
}

func (afterCodec) ResponseCursor(md *afterResponse) (common.Hash, bool, error) {
	return md.Through, true, nil // ask next from where the provider's scan stopped
}

// A version of the pagination subprotocol is its metadata and a Codec;
// New makes the rest. Here its first request meets an empty store.
func ExampleNew() {
	sub := pagination.New[afterRequest, afterResponse](afterCodec{}, orderstore.NewMemory(), nil)
	var _ ordersync.Subprotocol = sub

	first, _ := sub.GenerateFirstRequestMetadata()
	fmt.Println(sub.Name(), string(first))

	md, _ := sub.ParseRequestMetadata(first)
	res, err := sub.HandleOrderSyncRequest(context.Background(), &ordersync.Request{Metadata: md})
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, _ := json.Marshal(res.Metadata)
	fmt.Println(len(res.Orders), res.Complete, string(answer))
	// Output:
	// /pagination-example/version/1 {"orderfilter":null,"after":"0x0000000000000000000000000000000000000000000000000000000000000000"}
	// 0 true {"through":"0x0000000000000000000000000000000000000000000000000000000000000000"}
}
