package zeroex

import (
	"bytes"
	"encoding/json"
	"math/big"
	"math/rand"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/internal/orderjson"
)

// vectorJSON is the public vector order, signed with a dummy signature, as
// existing nodes write it.
const vectorJSON = `{"chainId":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48","makerAddress":"0x0000000000000000000000000000000000000000","makerAssetData":"0x0000000000000000000000000000000000000000","makerFeeAssetData":"0x","makerAssetAmount":"1000","makerFee":"0","takerAddress":"0x0000000000000000000000000000000000000000","takerAssetData":"0x0000000000000000000000000000000000000000","takerFeeAssetData":"0x","takerAssetAmount":"115792089237316195423570985008687907853269984665640564039457584007913129639935","takerFee":"0","senderAddress":"0x0000000000000000000000000000000000000000","feeRecipientAddress":"0x0000000000000000000000000000000000000000","expirationTimeSeconds":"1600000000","salt":"42","signature":"0x1b03"}`

func TestMarshalJSONExactBytes(t *testing.T) {
	o := vectorOrder()
	o.MakerFeeAssetData = nil
	o.TakerFeeAssetData = []byte{}
	o.MakerAssetAmount = big.NewInt(1000)
	o.TakerAssetAmount = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	o.ExpirationTimeSeconds = big.NewInt(1600000000)
	o.Salt = big.NewInt(42)
	s := &SignedOrder{Order: *o, Signature: []byte{0x1b, 0x03}}
	for i := 0; i < 2; i++ { // uncached, then cached
		got, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != vectorJSON {
			t.Fatalf("pass %d:\n got %s\nwant %s", i, got, vectorJSON)
		}
	}
	got, err := s.AppendJSON([]byte("prefix:"))
	if err != nil || string(got) != "prefix:"+vectorJSON {
		t.Fatalf("AppendJSON = %s, %v", got, err)
	}
	// The unsigned order is the same without the signature.
	unsigned, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(vectorJSON, `,"signature":"0x1b03"`, "", 1); string(unsigned) != want {
		t.Fatalf("Order.MarshalJSON:\n got %s\nwant %s", unsigned, want)
	}
}

func TestMarshalJSONCacheIsNotShared(t *testing.T) {
	var s SignedOrder
	if err := s.UnmarshalJSON([]byte(vectorJSON)); err != nil {
		t.Fatal(err)
	}
	a, _ := s.MarshalJSON()
	a[0] = 'X' // the caller owns the result
	b, _ := s.MarshalJSON()
	if string(b) != vectorJSON {
		t.Fatalf("cache was modified through a returned slice: %s", b)
	}
	s.Signature = []byte{0x01}
	s.ResetHash()
	c, _ := s.MarshalJSON()
	if !bytes.Contains(c, []byte(`"signature":"0x01"`)) {
		t.Fatalf("ResetHash kept the old encoding: %s", c)
	}
}

func TestAppendJSONUncachedKeepsNoCache(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 50; i++ {
		s := &SignedOrder{Order: *randomOrder(r), Signature: randomBytes(r)}
		got, err := s.AppendJSONUncached([]byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if s.cachedJSON() != nil {
			t.Fatalf("order %d: AppendJSONUncached left a cache on the order", i)
		}
		want, _ := s.MarshalJSON()
		if string(got) != "x"+string(want) {
			t.Fatalf("order %d: AppendJSONUncached\n got %s\nwant x%s", i, got, want)
		}
		// With a cache in place it is used, and still the same bytes.
		if again, _ := s.AppendJSONUncached(nil); string(again) != string(want) {
			t.Fatalf("order %d: AppendJSONUncached with a cache: %s", i, again)
		}
	}
	bad := &SignedOrder{Order: *vectorOrder()}
	bad.Salt = nil
	if out, err := bad.AppendJSONUncached([]byte("x")); err == nil || string(out) != "x" {
		t.Errorf("nil salt: got %q, %v; want dst unchanged and an error", out, err)
	}
}

// TestCachedJSONIsExact holds the cache to the encoding's length: it is
// kept as long as the order.
func TestCachedJSONIsExact(t *testing.T) {
	var s SignedOrder
	if err := s.UnmarshalJSON([]byte(vectorJSON)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendJSON(nil); err != nil {
		t.Fatal(err)
	}
	if c := s.cachedJSON(); len(c) != len(vectorJSON) || cap(c) != len(c) {
		t.Errorf("cache of %d bytes has length %d, capacity %d", len(vectorJSON), len(c), cap(c))
	}
}

// TestUnmarshalJSONFieldsDoNotOverlap checks that the byte fields, which
// share one allocation, cannot grow into each other, and that the numbers,
// which share another, are independent.
func TestUnmarshalJSONFieldsDoNotOverlap(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	want := &SignedOrder{Order: *randomOrder(r), Signature: randomBytes(r)}
	enc, err := want.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var s SignedOrder
	if err := s.UnmarshalJSON(enc); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{s.MakerAssetData, s.MakerFeeAssetData, s.TakerAssetData, s.TakerFeeAssetData, s.Signature} {
		if cap(b) != len(b) {
			t.Fatalf("byte field of length %d has capacity %d", len(b), cap(b))
		}
	}
	s.MakerAssetData = append(s.MakerAssetData, 0xee)
	s.MakerFee.Add(s.MakerFee, big.NewInt(1))
	s.MakerFee.Sub(s.MakerFee, big.NewInt(1))
	s.MakerAssetData = s.MakerAssetData[:len(s.MakerAssetData)-1]
	if !s.Equal(want) {
		t.Fatal("appending to one field or changing one number changed another")
	}
}

func TestMarshalJSONRejectsBadNumbers(t *testing.T) {
	for _, tc := range []struct {
		set  func(*Order)
		want string
	}{
		{func(o *Order) { o.MakerFee = nil }, `zeroex: field "makerFee": missing (nil)`},
		{func(o *Order) { o.Salt = big.NewInt(-1) }, `zeroex: field "salt": negative: -1`},
		{func(o *Order) { o.ChainID = new(big.Int).Lsh(big.NewInt(1), 256) }, `zeroex: field "chainId": above 2^256-1`},
	} {
		o := vectorOrder()
		tc.set(o)
		s := &SignedOrder{Order: *o}
		if _, err := s.MarshalJSON(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("MarshalJSON error %v, want %q", err, tc.want)
		}
		if _, err := o.ComputeOrderHash(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("ComputeOrderHash error %v, want %q", err, tc.want)
		}
	}
}

func TestJSONRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		s := &SignedOrder{Order: *randomOrder(r), Signature: randomBytes(r)}
		enc, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var got SignedOrder
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("order %d: %v\n%s", i, err, enc)
		}
		if !got.Equal(s) {
			t.Fatalf("order %d: round trip changed the order\n%s", i, enc)
		}
	}
}

// TestUnmarshalJSONLenient covers what the decoder must accept beyond the
// canonical form: whitespace, any field order, checksummed and uppercase
// addresses, leading zeros in decimal strings, and string escapes.
func TestUnmarshalJSONLenient(t *testing.T) {
	var want SignedOrder
	if err := want.UnmarshalJSON([]byte(vectorJSON)); err != nil {
		t.Fatal(err)
	}
	// Reverse the field order and spread whitespace everywhere.
	var fields []string
	dec := json.NewDecoder(strings.NewReader(vectorJSON))
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	for i := len(fieldNames) - 1; i >= 0; i-- {
		fields = append(fields, " \n\""+fieldNames[i]+"\"\t:\r "+string(m[fieldNames[i]])+"\n")
	}
	reordered := " {" + strings.Join(fields, ",") + "} \n"
	variants := []string{
		reordered,
		strings.Replace(vectorJSON, "0x1dc4c1cefef38a777b15aa20260a54e584b16c48", "0x1dC4c1cEFEF38a777b15aA20260a54E584b16C48", 1),
		strings.Replace(vectorJSON, "0x1dc4c1cefef38a777b15aa20260a54e584b16c48", "0x1DC4C1CEFEF38A777B15AA20260A54E584B16C48", 1),
		strings.Replace(vectorJSON, `"salt":"42"`, `"salt":"00042"`, 1),
		strings.Replace(vectorJSON, `"salt":"42"`, `"salt":"\u00342"`, 1),
		strings.Replace(vectorJSON, `"salt":"42"`, `"s\u0061lt":"42"`, 1),
	}
	for i, v := range variants {
		var got SignedOrder
		if err := got.UnmarshalJSON([]byte(v)); err != nil {
			t.Errorf("variant %d: %v\n%s", i, err, v)
			continue
		}
		if !got.Equal(&want) {
			t.Errorf("variant %d decoded to a different order", i)
		}
	}
}

func TestUnmarshalJSONRejects(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(vectorJSON, old) {
			t.Fatalf("test bug: %q not in vectorJSON", old)
		}
		return strings.Replace(vectorJSON, old, new, 1)
	}
	const exchange = "0x1dc4c1cefef38a777b15aa20260a54e584b16c48"
	for _, tc := range []struct {
		in, want string
	}{
		{replace(`"makerFee":"0"`, `"makerFee":"12a"`), `zeroex: field "makerFee": not a decimal number: "12a"`},
		{replace(`"makerFee":"0"`, `"makerFee":"-1"`), `zeroex: field "makerFee": negative: "-1"`},
		{replace(`"makerFee":"0"`, `"makerFee":"+1"`), `zeroex: field "makerFee": has a leading '+': "+1"`},
		{replace(`"makerFee":"0"`, `"makerFee":""`), `zeroex: field "makerFee": not a decimal number: ""`},
		{replace(`"makerFee":"0"`, `"makerFee":"1.5"`), `zeroex: field "makerFee": not a decimal number: "1.5"`},
		{replace(`"makerFee":"0"`, `"makerFee":0`), `zeroex: field "makerFee": want a string, got a number`},
		{replace(`"makerFee":"0"`, `"makerFee":null`), `zeroex: field "makerFee": want a string, got null`},
		{replace(`"salt":"42"`, `"salt":"115792089237316195423570985008687907853269984665640564039457584007913129639936"`), `zeroex: field "salt": above 2^256-1`},
		{replace(`"salt":"42"`, `"salt":"1`+strings.Repeat("0", 78)+`"`), `zeroex: field "salt": above 2^256-1`},
		{replace(`"chainId":1337`, `"chainId":"1337"`), `zeroex: field "chainId": want a JSON number, got a string`},
		{replace(`"chainId":1337`, `"chainId":-1`), `zeroex: field "chainId": negative: "-1"`},
		{replace(`"chainId":1337`, `"chainId":1.5`), `zeroex: field "chainId": not a non-negative integer: "1.5"`},
		{replace(`"chainId":1337`, `"chainId":1e3`), `zeroex: field "chainId": not a non-negative integer: "1e3"`},
		{replace(`"chainId":1337`, `"chainId":01`), `zeroex: field "chainId": not a valid JSON integer`},
		{replace(`"chainId":1337`, `"chainId":115792089237316195423570985008687907853269984665640564039457584007913129639936`), `zeroex: field "chainId": above 2^256-1`},
		{replace(`"signature":"0x1b03"`, `"signature":"0x1b0"`), `zeroex: field "signature": odd hex length 3`},
		{replace(`"signature":"0x1b03"`, `"signature":"0x1g03"`), `zeroex: field "signature": bad hex digit 'g'`},
		{replace(`"signature":"0x1b03"`, `"signature":"1b03"`), `zeroex: field "signature": not 0x-prefixed hex`},
		{replace(`"signature":"0x1b03"`, `"signature":"0X1b03"`), `zeroex: field "signature": not 0x-prefixed hex`},
		{replace(`"signature":"0x1b03"`, `"signature":[]`), `zeroex: field "signature": want a string, got an array`},
		{replace(exchange, exchange[:40]), `zeroex: field "exchangeAddress": wrong address length: 19 bytes, want 20`},
		{replace(exchange, exchange+"00"), `zeroex: field "exchangeAddress": wrong address length: 21 bytes, want 20`},
		{replace(exchange, "0x1dC4c1cEFEF38a777b15aA20260a54E584b16C48"), ""}, // control: valid checksum
		{replace(exchange, "0x1DC4c1cEfEf38a777b15aA20260a54E584b16C48"), `zeroex: field "exchangeAddress": bad EIP-55 checksum`},
		{replace(`"salt":"42",`, ``), `zeroex: field "salt": missing`},
		{replace(`"salt":"42"`, `"salt":"42","salt":"42"`), `zeroex: field "salt": duplicate field`},
		{replace(`"salt":"42"`, `"salt":"42","extra":1`), `zeroex: unknown field "extra"`},
		{replace(`"salt":"42"`, `"Salt":"42"`), `zeroex: unknown field "Salt"`},
		{vectorJSON + "x", `zeroex: signed order: invalid JSON at offset`},
		{vectorJSON[:len(vectorJSON)-1], `zeroex: signed order: invalid JSON: want ',' or '}' after field "signature", got end of input`},
		{replace(`"salt":"42"`, "\"salt\":\"4\n2\""), `zeroex: field "salt": control character`},
		{replace(`"salt":"42"`, `"salt":"42`), `zeroex: field "salt": not a decimal number`},
		{`null`, `zeroex: signed order: want a JSON object, got null`},
		{`[]`, `zeroex: signed order: want a JSON object, got an array`},
		{``, `zeroex: signed order: want a JSON object, got end of input`},
		{`{}`, `zeroex: field "chainId": missing`},
		{`{"chainId":1,}`, `zeroex: signed order: invalid JSON at offset 13: want a field name`},
	} {
		var s SignedOrder
		err := s.UnmarshalJSON([]byte(tc.in))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("unexpected error %v for\n%s", err, tc.in)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("error %v, want %q, for\n%s", err, tc.want, tc.in)
		}
		if tc.want != "" && s.ChainID != nil {
			t.Errorf("a failed decode changed the order, for\n%s", tc.in)
		}
	}
}

func TestUnmarshalJSONPrefixDecodesWhereTheOrderLies(t *testing.T) {
	doc := " \n" + vectorJSON
	for _, rest := range []string{"", ",", "] ", `,{"chainId":1}`, "x"} {
		var s SignedOrder
		n, err := s.unmarshalJSONPrefix([]byte(doc + rest))
		if err != nil || n != len(doc) {
			t.Fatalf("followed by %q: %d bytes, %v; want %d", rest, n, err, len(doc))
		}
		var want SignedOrder
		if err := want.UnmarshalJSON([]byte(vectorJSON)); err != nil || !s.Equal(&want) {
			t.Fatalf("followed by %q: another order (%v)", rest, err)
		}
	}
	var s SignedOrder
	if n, err := s.unmarshalJSONPrefix([]byte(vectorJSON[:len(vectorJSON)-1])); err == nil || n != 0 || s.ChainID != nil {
		t.Fatalf("cut-off order: %d bytes, %v, order changed: %v", n, err, s.ChainID != nil)
	}
}

// TestDecodeKeepsCanonicalJSON checks what a decoded order keeps of the
// bytes it arrived as: the object itself when it is exactly MarshalJSON's
// encoding (so that a store or a responder need not encode it again), and
// nothing otherwise. Every variant decodes to the same order and hash, and
// encodes to the canonical bytes either way.
func TestDecodeKeepsCanonicalJSON(t *testing.T) {
	// Without a store that wants it, nothing is kept.
	var unwanted SignedOrder
	if err := unwanted.UnmarshalJSON([]byte(vectorJSON)); err != nil {
		t.Fatal(err)
	}
	if c := unwanted.cachedJSON(); c != nil {
		t.Fatalf("no store wants the JSON, yet the decoder kept %q", c)
	}
	release := orderjson.Want()
	defer release()
	var want SignedOrder
	if err := want.UnmarshalJSON([]byte(vectorJSON)); err != nil {
		t.Fatal(err)
	}
	wantHash, err := want.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	if c := want.cachedJSON(); string(c) != vectorJSON || cap(c) != len(c) {
		t.Fatalf("canonical input: kept %q (capacity %d), want the input exactly", c, cap(c))
	}
	// The prefix decoder keeps the object, not what surrounds it.
	var prefix SignedOrder
	if _, err := prefix.unmarshalJSONPrefix([]byte(" \n" + vectorJSON + ",{}]")); err != nil {
		t.Fatal(err)
	}
	if c := prefix.cachedJSON(); string(c) != vectorJSON {
		t.Fatalf("prefix decoder kept %q", c)
	}
	variants := map[string]string{
		"spaces":        strings.ReplaceAll(vectorJSON, ",", ", "),
		"space in":      strings.Replace(vectorJSON, `"salt":`, `"salt": `, 1),
		"newline after": strings.Replace(vectorJSON, `{`, "{\n", 1),
		"uppercase hex": strings.Replace(vectorJSON, `"signature":"0x1b03"`, `"signature":"0x1B03"`, 1),
		"checksummed":   strings.Replace(vectorJSON, "0x1dc4c1cefef38a777b15aa20260a54e584b16c48", "0x1dC4c1cEFEF38a777b15aA20260a54E584b16C48", 1),
		"leading zero":  strings.Replace(vectorJSON, `"salt":"42"`, `"salt":"042"`, 1),
		"escape":        strings.Replace(vectorJSON, `"salt":"42"`, `"salt":"\u00342"`, 1),
		"escaped key":   strings.Replace(vectorJSON, `"salt":`, `"s\u0061lt":`, 1),
		"key order": strings.Replace(strings.Replace(vectorJSON, `,"salt":"42"`, ``, 1),
			`{`, `{"salt":"42",`, 1),
	}
	for name, in := range variants {
		var s SignedOrder
		if err := s.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c := s.cachedJSON(); c != nil {
			t.Errorf("%s: kept %q, which MarshalJSON would not write", name, c)
		}
		if !s.Equal(&want) {
			t.Errorf("%s: decodes to another order", name)
		}
		if h, err := s.ComputeOrderHash(); err != nil || h != wantHash {
			t.Errorf("%s: hash %x, %v; want %x", name, h, err, wantHash)
		}
		if enc, err := s.AppendJSON(nil); err != nil || string(enc) != vectorJSON {
			t.Errorf("%s: encodes to %s, %v", name, enc, err)
		}
	}
	// Random orders arrive canonical: each keeps its encoding, which is
	// the order's own encoding.
	r := rand.New(rand.NewSource(9))
	for i := 0; i < 100; i++ {
		o := &SignedOrder{Order: *randomOrder(r), Signature: randomBytes(r)}
		enc := o.appendSigned(nil)
		var s SignedOrder
		if err := s.UnmarshalJSON(enc); err != nil {
			t.Fatal(err)
		}
		if c := s.cachedJSON(); !bytes.Equal(c, enc) {
			t.Fatalf("order %d: kept %q, want %q", i, c, enc)
		}
		if fresh := s.appendSigned(nil); !bytes.Equal(fresh, enc) {
			t.Fatalf("order %d: decoded order encodes to %q, arrived as %q", i, fresh, enc)
		}
	}
}

func TestForgetJSONDropsOnlyTheEncoding(t *testing.T) {
	release := orderjson.Want()
	defer release()
	var s SignedOrder
	if err := s.UnmarshalJSON([]byte(vectorJSON)); err != nil {
		t.Fatal(err)
	}
	hash, _ := s.ComputeOrderHash()
	s.ForgetJSON()
	if s.cachedJSON() != nil {
		t.Fatal("ForgetJSON kept the encoding")
	}
	if h, ok := s.cachedHash(); !ok || h != hash {
		t.Fatal("ForgetJSON dropped the hash")
	}
	if enc, err := s.AppendJSONUncached(nil); err != nil || string(enc) != vectorJSON {
		t.Fatalf("encodes to %s, %v", enc, err)
	}
}
