package orderfilter

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse, as a peer may, and matches an
// order with every filter that results: nothing may panic, and a filter
// must answer every order either way or with a clear error.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}`,
		`{"customOrderSchema":"{\"$ref\":\"/signedOrder\",\"const\":1}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}`,
		`{"customOrderSchema":"{\"properties\":{\"makerAssetData\":{\"pattern\":\"^0xf47261b0\"},\"takerFee\":{\"enum\":[\"0\"]}}}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}`,
		`{"customOrderSchema":"{\"if\":{\"properties\":{\"salt\":{\"const\":\"7\"}}},\"then\":{\"$ref\":\"#\"}}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}`,
		`{"customOrderSchema":"{\"$ref\":\"#\"}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}`,
		`{"customOrderSchema":"{\"$ref\":\"http://127.0.0.1:1/x\"}","chainID":1,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}`,
		`{"customOrderSchema":"{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$defs\":{\"a\":{\"$dynamicRef\":\"#a\"}}}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}`,
		`{"customOrderSchema":"{\"format\":\"regex\",\"patternProperties\":{\"(\":{}}}","chainID":0,"exchangeAddress":"0x0000000000000000000000000000000000000000"}`,
		`{"customOrderSchema":"true","chainID":1337,"exchangeAddress":"0x1DC4C1CEFEF38A777B15AA20260A54E584B16C48"}`,
		`null`, `{}`, `[`, ``,
	}
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
	o := testOrder(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		filter, err := Parse(data)
		if err != nil {
			return
		}
		ok, matchErr := filter.MatchOrder(o)
		verr := filter.ValidateOrder(o)
		var m *MismatchError
		switch {
		case matchErr != nil:
			if verr == nil || errors.As(verr, &m) {
				t.Fatalf("MatchOrder failed (%v) but ValidateOrder says %v", matchErr, verr)
			}
		case ok != (verr == nil):
			t.Fatalf("MatchOrder = %v but ValidateOrder = %v", ok, verr)
		case !ok && !errors.As(verr, &m):
			t.Fatalf("a mismatch that is not a *MismatchError: %v", verr)
		}
		if _, err := filter.MarshalJSON(); err != nil {
			t.Fatal(err)
		}
	})
}
