package ordersync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/metrics"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/wire/framing"
)

// fuzzRespMaxResponse bounds a fuzzed stream's messages, as
// WithMaxResponseSize does on a real one.
const fuzzRespMaxResponse = 1 << 20

// fuzzRespNode is a Node without a network: the fuzz target only parses,
// and a quiet process keeps its allocation counts its own.
type fuzzRespNode struct{}

func (fuzzRespNode) ID() peer.ID                                         { return "fuzz-requester" }
func (fuzzRespNode) SetStreamHandler(protocol.ID, network.StreamHandler) {}
func (fuzzRespNode) Neighbors() []peer.ID                                { return nil }
func (fuzzRespNode) AddPeerScore(peer.ID, string, int)                   {}
func (fuzzRespNode) SetPeerScore(peer.ID, string, int)                   {}
func (fuzzRespNode) UnsetPeerScore(peer.ID, string)                      {}
func (fuzzRespNode) NewStream(context.Context, peer.ID, ...protocol.ID) (network.Stream, error) {
	return nil, errors.New("fuzz: no network")
}

// fuzzRespMeta is fuzzRespSub's response metadata.
type fuzzRespMeta struct {
	Next string `json:"next"`
}

// fuzzRespSub is a subprotocol whose response metadata is a strict
// {"next": "..."}, so that the target exercises both accepted and rejected
// metadata. Only its requester-side parsing is used.
type fuzzRespSub struct{ name string }

func (s fuzzRespSub) Name() string { return s.name }
func (s fuzzRespSub) ParseResponseMetadata(m json.RawMessage) (interface{}, error) {
	var meta fuzzRespMeta
	if bytes.Equal(m, []byte("null")) {
		return meta, nil
	}
	dec := json.NewDecoder(bytes.NewReader(m))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return nil, fmt.Errorf("fuzz: response metadata: %w", err)
	}
	return meta, nil
}
func (s fuzzRespSub) ParseRequestMetadata(json.RawMessage) (interface{}, error) { return nil, nil }
func (s fuzzRespSub) GenerateFirstRequestMetadata() (json.RawMessage, error)    { return nil, nil }
func (s fuzzRespSub) HandleOrderSyncRequest(context.Context, *Request) (*Response, error) {
	return nil, errors.New("fuzz: not a provider")
}
func (s fuzzRespSub) HandleOrderSyncResponse(context.Context, *Response) (*Request, int, error) {
	return nil, 0, errors.New("fuzz: not used")
}

// totalAlloc is the bytes the process has allocated so far. It reads
// runtime/metrics, not runtime.ReadMemStats: the latter stops the world,
// which slowed the fuzzer to a few execs a second and let its workers miss
// the end of -fuzztime ("context deadline exceeded").
func totalAlloc() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// FuzzHandleResponse feeds arbitrary bytes, as a provider's side of a
// stream, through the requester's response path: the bounded framing
// reader, then parseResponse (envelope, type, subprotocol, orders, metadata)
// for each message, as the first response of a sync and as a later one. It
// must never panic, must wrap ErrInvalidMessage in every error, must only
// accept what the requester asked for, and must allocate in proportion to
// the message.
func FuzzHandleResponse(f *testing.F) {
	signed := ordergen.Generate(ordergen.Options{Seed: 3, Count: 3})
	ordersJSON, err := json.Marshal(signed)
	if err != nil {
		f.Fatal(err)
	}
	one, err := json.Marshal(signed[0])
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"type":"Response","subprotocol":"/fuzz/a","orders":` + string(ordersJSON) + `,"complete":false,"metadata":{"next":"x"}}`,
		`{"type":"Response","subprotocol":"/fuzz/b","orders":[],"complete":true,"metadata":null}` + "\n" +
			`{"type":"Response","subprotocol":"/fuzz/b","orders":null,"complete":true}`,
		`{"type":"Response","subprotocol":"/fuzz/a","orders":[null,` + string(one) + `],"complete":false,"metadata":{"next":"y"}}`,
		`{"type":"Response","subprotocol":"/fuzz/a","orders":[` + string(bytes.Replace(one, []byte(`"salt":"`), []byte(`"salt":"-`), 1)) + `]}`,
		`{"type":"Response","subprotocol":"/fuzz/x","orders":[]}`,
		`{"type":"Response","subprotocol":"/fuzz/a","metadata":{"next":1}}`,
		`{"type":"Response","subprotocol":"/fuzz/a","metadata":{"other":"x"}}`,
		`{"type":"Request","subprotocols":["/fuzz/a"]}`,
		`{"type":"Response","orders":{"0":1}}`,
		`{"type":"Response","orders":[{}]}`,
		`{"type":"Response","complete":"yes"}`,
		`{}`, ` {"type":null} `, `{"type":"Response"`, `[`, `{"a":[[[[[[[[[[]]]]]]]]]]}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}

	a, b := fuzzRespSub{"/fuzz/a"}, fuzzRespSub{"/fuzz/b"}
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	s := New(context.Background(), fuzzRespNode{}, []Subprotocol{a, b}, WithLogger(logger), WithMaxResponseSize(fuzzRespMaxResponse))
	const provider = peer.ID("fuzz-provider")

	f.Fuzz(func(t *testing.T, data []byte, later bool) {
		ps := &peerSync{s: s, p: provider, log: s.log}
		if later {
			ps.sub = b
		}
		r, err := framing.NewReader(bytes.NewReader(data), fuzzRespMaxResponse, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The same stream as the requester reads it, decoding each
		// response as it arrives, must read and accept the same.
		inParts, err := framing.NewReader(bytes.NewReader(data), fuzzRespMaxResponse, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A few messages of one stream, as a requester reads them.
		for range 4 {
			msg, err := r.ReadMessage()
			raw, _, readErr, decodeErr := ps.decodeResponse(inParts)
			if (err != nil) != (readErr != nil) {
				t.Fatalf("reading whole: %v; decoding as it arrives: %v", err, readErr)
			}
			if err != nil {
				return
			}
			streamedOK := decodeErr == nil
			if streamedOK {
				_, _, checkErr := ps.checkResponse(raw)
				streamedOK = checkErr == nil
			}
			before := totalAlloc()
			sub, resp, err := ps.parseResponse(msg)
			grew := totalAlloc() - before
			// Decoding allocates the orders' fields and the decoder's
			// state: a small multiple of the message, never more. The
			// counter is the process's, so a goroutine of another test
			// winding down can add to it: a parse over the limit is
			// measured twice more, and only the least of the three
			// counts.
			limit := uint64(64*len(msg) + 256<<10)
			for try := 0; try < 2 && grew > limit; try++ {
				before := totalAlloc()
				_, _, _ = ps.parseResponse(msg)
				grew = min(grew, totalAlloc()-before)
			}
			if grew > limit {
				t.Errorf("parsing a %d-byte response allocated %d bytes, over %d", len(msg), grew, limit)
			}
			if streamedOK != (err == nil) {
				t.Fatalf("%q: parsed whole: %v; decoded as it arrived: accepted %v (%v)", msg, err, streamedOK, decodeErr)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidMessage) {
					t.Fatalf("error %v does not wrap ErrInvalidMessage", err)
				}
				continue
			}
			checkFuzzedResponse(t, msg, ps, sub, resp, provider)
			ps.sub = sub // later responses must keep to it
		}
	})
}

// checkFuzzedResponse checks what parseResponse accepted.
func checkFuzzedResponse(t *testing.T, msg []byte, ps *peerSync, sub Subprotocol, resp *Response, provider peer.ID) {
	t.Helper()
	if sub == nil || resp == nil {
		t.Fatalf("accepted %q without a subprotocol or response", msg)
	}
	if ps.sub != nil && sub != ps.sub {
		t.Fatalf("response switched the sync from %s to %s", ps.sub.Name(), sub.Name())
	}
	if resp.ProviderID != provider {
		t.Fatalf("response from %s, want %s", resp.ProviderID, provider)
	}
	if _, ok := resp.Metadata.(fuzzRespMeta); !ok {
		t.Fatalf("metadata %T, want fuzzRespMeta", resp.Metadata)
	}
	var raw struct {
		Type        string `json:"type"`
		Subprotocol string `json:"subprotocol"`
	}
	if err := json.Unmarshal(msg, &raw); err != nil {
		t.Fatalf("accepted %q, which is not JSON: %v", msg, err)
	}
	if raw.Type != TypeResponse || raw.Subprotocol != sub.Name() {
		t.Fatalf("accepted type %q subprotocol %q as a %s response", raw.Type, raw.Subprotocol, sub.Name())
	}
	// Every order that came through the strict decoder can be hashed and
	// encoded again: the pipeline after parsing relies on it.
	for i, o := range resp.Orders {
		if o == nil {
			continue
		}
		if _, err := o.ComputeOrderHash(); err != nil {
			t.Fatalf("order %d was accepted but cannot be hashed: %v", i, err)
		}
		if _, err := json.Marshal(o); err != nil {
			t.Fatalf("order %d was accepted but cannot be encoded: %v", i, err)
		}
	}
}
