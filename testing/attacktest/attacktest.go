// Package attacktest holds what the attack suites of the root package and
// of cmd/ordersync share: the requests a hostile requester builds on, the
// garbage it floods with, and the checks of how a provider ends a stream.
// Only tests import it.
//
// It is test support for this repository's tests, kept under testing/
// with the rest of it so that internal/ holds production code only; it
// makes no compatibility promise (see CHANGELOG.md).
package attacktest

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
)

// ZeroHash is the first cursor of version 1.
const ZeroHash = "0x0000000000000000000000000000000000000000000000000000000000000000"

// Requests an attacker builds on: a valid first request for version 1
// only, and the later requests that follow it on the same stream, each with
// its newline.
var (
	FirstRequestV1 = `{"type":"Request","subprotocols":["` + filteredpagination.Name + `"],"metadata":{"metadata":[{"orderfilter":null,"minOrderHash":"` + ZeroHash + `"}]}}` + "\n"
	LaterRequestV1 = `{"type":"Request","subprotocols":["` + filteredpagination.Name + `"],"metadata":{"orderfilter":null,"minOrderHash":"` + ZeroHash + `"}}` + "\n"
)

// FirstRequestBoth is a first request offering both subprotocols with
// metadata, the given JSON, in place of the list of first-request
// metadata.
func FirstRequestBoth(metadata string) string {
	return `{"type":"Request","subprotocols":["` + filteredpagination.Name + `","` + ordinal.Name + `"],"metadata":` + metadata + "}\n"
}

// FirstRequestWithFilter is a first request whose version-1 entry carries
// the given order filter JSON and cursor.
func FirstRequestWithFilter(filter, minOrderHash string) string {
	return FirstRequestBoth(`{"metadata":[{"orderfilter":` + filter + `,"minOrderHash":"` + minOrderHash + `"},{"orderfilter":null,"page":0,"snapshotID":""}]}`)
}

// FilterJSON is an order filter on the wire with the given custom schema,
// for the chain and exchange of the generated orders (internal/ordergen).
func FilterJSON(schema string) string {
	quoted := strings.ReplaceAll(schema, `"`, `\"`)
	return fmt.Sprintf(`{"customOrderSchema":"%s","chainID":%d,"exchangeAddress":"%s"}`,
		quoted, ordergen.DefaultChainID, strings.ToLower(ordergen.DefaultExchange.Hex()))
}

// RandomBytes is n bytes of a seeded random stream.
func RandomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// WriteUntilError writes chunk again and again, after prefix, until the
// write fails or limit bytes are written. It returns the bytes written.
func WriteUntilError(w io.Writer, prefix, chunk []byte, limit int) (int, error) {
	written, err := w.Write(prefix)
	for err == nil && written < limit {
		var n int
		n, err = w.Write(chunk[:min(len(chunk), limit-written)])
		written += n
	}
	return written, err
}

// NoResponse reads what the provider, called who, sends on r until it ends
// the stream, and says what was wrong if that was not nothing, promptly.
func NoResponse(r io.Reader, who string) error {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if len(b) > 0 {
		return fmt.Errorf("%s answered %d bytes: %.200q", who, len(b), b)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%s kept the stream open until the hang guard", who)
	}
	return nil
}
