package zeroex

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/internal/orderjson"
)

// FuzzSignedOrderJSON checks that the decoder never panics and that what it
// accepts has one canonical encoding: encode(decode(x)) decodes to an equal
// order and encodes to the same bytes again.
func FuzzSignedOrderJSON(f *testing.F) {
	f.Add([]byte(vectorJSON))
	r := rand.New(rand.NewSource(6))
	for i := 0; i < 4; i++ {
		s := &SignedOrder{Order: *randomOrder(r), Signature: randomBytes(r)}
		enc, err := s.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	for _, seed := range []string{
		strings.Replace(vectorJSON, `"salt":"42"`, `"salt":"00042"`, 1),
		strings.Replace(vectorJSON, `"salt":"42"`, `"salt":"\u00342"`, 1),
		strings.Replace(vectorJSON, "0x1dc4c1cefef38a777b15aa20260a54e584b16c48", "0x1dC4c1cEFEF38a777b15aA20260a54E584b16C48", 1),
		strings.ReplaceAll(vectorJSON, ",", " ,\n\t"),
		strings.Replace(vectorJSON, `"makerFee":"0"`, `"makerFee":"12a"`, 1),
		strings.Replace(vectorJSON, `"chainId":1337`, `"chainId":1e3`, 1),
		strings.Replace(vectorJSON, `"signature":"0x1b03"`, `"signature":"0x1b0"`, 1),
		strings.Replace(vectorJSON, `"salt":"42"`, `"salt":"42","salt":"1"`, 1),
		`{}`, `null`, `{"chainId":1`, `{"chainId":-0}`,
	} {
		f.Add([]byte(seed))
	}
	release := orderjson.Want() // the decoder keeps what it may keep
	defer release()
	f.Fuzz(func(t *testing.T, data []byte) {
		var s, general SignedOrder
		err := s.UnmarshalJSON(data)
		generalErr := general.unmarshalJSON(data, true)
		if fmt.Sprint(err) != fmt.Sprint(generalErr) || (err == nil && !general.Equal(&s)) {
			t.Fatalf("fast paths: %v; general path: %v (or another order)\n%q", err, generalErr, data)
		}
		// The prefix decoder takes what the whole-document one takes, and
		// what it takes decodes whole to the same order.
		var prefix SignedOrder
		n, prefixErr := prefix.unmarshalJSONPrefix(data)
		if err == nil && (prefixErr != nil || len(bytes.TrimSpace(data[n:])) != 0 || !prefix.Equal(&s)) {
			t.Fatalf("whole document decodes, prefix: %d bytes, %v\n%q", n, prefixErr, data)
		}
		if prefixErr == nil {
			var whole SignedOrder
			if err := whole.UnmarshalJSON(data[:n]); err != nil || !whole.Equal(&prefix) {
				t.Fatalf("prefix took %d bytes, which decode whole to %v\n%q", n, err, data)
			}
		}
		if err != nil {
			if s.ChainID != nil || s.Signature != nil {
				t.Fatalf("failed decode changed the order: %v", err)
			}
			return
		}
		canonical, err := s.MarshalJSON()
		if err != nil {
			t.Fatalf("accepted order does not encode: %v\n%q", err, data)
		}
		// The decoder keeps what arrived only when it is exactly the
		// order's encoding.
		if kept := prefix.cachedJSON(); kept != nil && !bytes.Equal(kept, prefix.appendSigned(nil)) {
			t.Fatalf("decoder kept %q, the order encodes to %q", kept, prefix.appendSigned(nil))
		}
		var again SignedOrder
		if err := again.UnmarshalJSON(canonical); err != nil {
			t.Fatalf("canonical form does not decode: %v\n%s", err, canonical)
		}
		if !again.Equal(&s) {
			t.Fatalf("canonical form decodes to another order\n%s", canonical)
		}
		twice, err := again.MarshalJSON()
		if err != nil || !bytes.Equal(twice, canonical) {
			t.Fatalf("re-encoding differs (%v)\n%s\n%s", err, canonical, twice)
		}
		// Hashing and verifying an accepted order must not panic either.
		if _, err := s.ComputeOrderHash(); err != nil {
			t.Fatalf("accepted order does not hash: %v", err)
		}
		_ = s.VerifySignature()
	})
}
