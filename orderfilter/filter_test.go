package orderfilter

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

func TestDefaultFilterAcceptsWellFormedOrder(t *testing.T) {
	f, err := NewDefault(testChainID, testExchange)
	if err != nil {
		t.Fatal(err)
	}
	if f.ChainID() != testChainID || f.ExchangeAddress() != testExchange || f.CustomOrderSchema() != "{}" {
		t.Fatalf("accessors: %d %s %q", f.ChainID(), f.ExchangeAddress(), f.CustomOrderSchema())
	}
	mustMatch(t, f, testOrder(t), true)
}

// A known chain's default filter follows its Exchange, not the address of
// the hash vector; an unknown chain is refused, naming it.
func TestNewDefaultForChain(t *testing.T) {
	f, err := NewDefaultForChain(1)
	if err != nil {
		t.Fatal(err)
	}
	mainnet := common.HexToAddress("0x61935cbdd02287b511119ddb11aeb42f1593b7ef")
	if f.ChainID() != 1 || f.ExchangeAddress() != mainnet || f.CustomOrderSchema() != DefaultCustomOrderSchema {
		t.Errorf("chain 1: filter of chain %d, exchange %s, schema %q", f.ChainID(), f.ExchangeAddress().Hex(), f.CustomOrderSchema())
	}
	o := testOrder(t)
	o.ChainID, o.ExchangeAddress = big.NewInt(1), mainnet
	mustMatch(t, f, o, true)
	o.ExchangeAddress = testExchange
	mustMatch(t, f, o, false)

	_, err = NewDefaultForChain(5)
	var unknown *zeroex.UnknownChainError
	if !errors.As(err, &unknown) || unknown.ChainID != 5 || !strings.Contains(err.Error(), "chain 5") {
		t.Errorf("chain 5: err %v, want an UnknownChainError naming chain 5", err)
	}
}

func TestBuiltinRules(t *testing.T) {
	maxUint256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	tests := []struct {
		name        string
		change      func(o *zeroex.SignedOrder)
		wantRule    Rule // "" means the order matches
		wantPointer string
	}{
		{"unchanged", func(o *zeroex.SignedOrder) {}, "", ""},
		{"other chain", func(o *zeroex.SignedOrder) { o.ChainID = big.NewInt(1) }, RuleChainID, "/chainId"},
		{"chain beyond int64", func(o *zeroex.SignedOrder) { o.ChainID = new(big.Int).Lsh(big.NewInt(testChainID), 64) }, RuleChainID, "/chainId"},
		{"nil chain", func(o *zeroex.SignedOrder) { o.ChainID = nil }, RuleWellFormed, "/chainId"},
		{"other exchange", func(o *zeroex.SignedOrder) { o.ExchangeAddress[19]++ }, RuleExchangeAddress, "/exchangeAddress"},
		{"nil amount", func(o *zeroex.SignedOrder) { o.TakerAssetAmount = nil }, RuleWellFormed, "/takerAssetAmount"},
		{"nil salt", func(o *zeroex.SignedOrder) { o.Salt = nil }, RuleWellFormed, "/salt"},
		{"negative fee", func(o *zeroex.SignedOrder) { o.MakerFee = big.NewInt(-1) }, RuleWellFormed, "/makerFee"},
		{"expiry above 2^256-1", func(o *zeroex.SignedOrder) { o.ExpirationTimeSeconds = new(big.Int).Add(maxUint256, big.NewInt(1)) }, RuleWellFormed, "/expirationTimeSeconds"},
		{"amount of 2^256-1", func(o *zeroex.SignedOrder) { o.MakerAssetAmount = maxUint256 }, "", ""},
		{"empty byte fields", func(o *zeroex.SignedOrder) {
			o.MakerFeeAssetData, o.TakerFeeAssetData, o.Signature = nil, []byte{}, nil
		}, "", ""},
	}
	// The built-in checks hold whether or not the engine runs.
	for _, schema := range []string{"{}", `{"required":["salt"]}`} {
		f := mustNew(t, schema)
		for _, tt := range tests {
			t.Run(schema+"/"+tt.name, func(t *testing.T) {
				o := testOrder(t)
				tt.change(o)
				if tt.wantRule == "" {
					mustMatch(t, f, o, true)
					return
				}
				mustMatch(t, f, o, false)
				m := mismatchOf(t, f, o)
				if m.Rule != tt.wantRule || m.InstancePointer != tt.wantPointer {
					t.Fatalf("mismatch %q at %q, want %q at %q (%v)", m.Rule, m.InstancePointer, tt.wantRule, tt.wantPointer, m)
				}
			})
		}
	}
}

func TestExchangeAddressInEitherCase(t *testing.T) {
	const checksummed = "0x1dC4c1cEFEF38a777b15aA20260a54E584b16C48"
	if common.HexToAddress(checksummed).Hex() != checksummed {
		t.Fatal("test constant is not EIP-55")
	}
	for _, addr := range []string{checksummed, strings.ToLower(checksummed)} {
		f, err := Parse([]byte(`{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"` + addr + `"}`))
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		mustMatch(t, f, testOrder(t), true)
		// A custom schema sees the order's exchange address in lowercase,
		// as the network writes it.
		lower := mustNew(t, `{"properties":{"exchangeAddress":{"const":"`+strings.ToLower(checksummed)+`"}}}`)
		mustMatch(t, lower, testOrder(t), true)
	}
}

func TestCustomSchemas(t *testing.T) {
	o := testOrder(t)
	maker := strings.ToLower(o.MakerAddress.Hex())
	tests := []struct {
		name    string
		schema  string
		match   bool
		keyword string // of the mismatch
		pointer string // of the mismatch
	}{
		{"true", `true`, true, "", ""},
		{"false", `false`, false, "false", ""},
		{"annotations only", `{"title":"all","$comment":"x","definitions":{"a":{"type":"string"}}}`, true, "", ""},
		{"const chainId", `{"properties":{"chainId":{"const":1337}}}`, true, "", ""},
		{"const makerFee", `{"properties":{"makerFee":{"const":"1"}}}`, false, "const", "/makerFee"},
		{"const maker", `{"properties":{"makerAddress":{"const":"` + maker + `"}}}`, true, "", ""},
		{"enum takerAssetAmount", `{"properties":{"takerAssetAmount":{"enum":["1","2000000000"]}}}`, true, "", ""},
		{"enum takerFee", `{"properties":{"takerFee":{"enum":["5","6"]}}}`, false, "enum", "/takerFee"},
		{"pattern ERC20", `{"properties":{"makerAssetData":{"pattern":"^0xf47261b0"}}}`, true, "", ""},
		{"pattern ERC721", `{"properties":{"makerAssetData":{"pattern":"^0x02571792"}}}`, false, "pattern", "/makerAssetData"},
		{"pattern empty fee data", `{"properties":{"makerFeeAssetData":{"pattern":"^0x$"}}}`, true, "", ""},
		{"required present", `{"required":["signature","salt"]}`, true, "", ""},
		{"required absent", `{"required":["remainingFillableTakerAssetAmount"]}`, false, "required", ""},
		{"$ref /signedOrder", `{"$ref":"/signedOrder"}`, true, "", ""},
		{"$ref /order", `{"$ref":"/order"}`, true, "", ""},
		{"$ref /address", `{"properties":{"makerAddress":{"$ref":"/address"}}}`, true, "", ""},
		{"$ref /hex", `{"properties":{"makerAssetData":{"$ref":"/hex"}}}`, true, "", ""},
		{"$ref /wholeNumber", `{"properties":{"salt":{"$ref":"/wholeNumber"}}}`, true, "", ""},
		{"$ref /wholeNumber on an address", `{"properties":{"makerAddress":{"$ref":"/wholeNumber"}}}`, false, "pattern", "/makerAddress"},
		{"$ref /address on the whole order", `{"$ref":"/address"}`, false, "type", ""},
		{"$ref local definition", `{"definitions":{"erc20":{"pattern":"^0xf47261b0"}},"properties":{"takerAssetData":{"$ref":"#/definitions/erc20"}}}`, true, "", ""},
		// Draft-07: keywords beside $ref are ignored, so "const" does not
		// reject. Without the $ref, the same const does.
		{"$ref siblings ignored", `{"properties":{"makerAddress":{"$ref":"/address","const":"0x0000000000000000000000000000000000000001"}}}`, true, "", ""},
		{"same const without $ref", `{"properties":{"makerAddress":{"const":"0x0000000000000000000000000000000000000001"}}}`, false, "const", "/makerAddress"},
		{"$ref sibling if/then ignored", `{"properties":{"makerAddress":{"$ref":"/address","if":true,"then":false}}}`, true, "", ""},
		{"$ref sibling propertyNames ignored", `{"$ref":"/signedOrder","propertyNames":{"maxLength":1}}`, true, "", ""},
		{"$ref sibling ignored in definitions", `{"definitions":{"a":{"$ref":"/hex","const":"0x"}},"properties":{"makerAssetData":{"$ref":"#/definitions/a"}}}`, true, "", ""},
		{"$ref siblings apply in draft 2019-09", `{"$schema":"https://json-schema.org/draft/2019-09/schema","properties":{"makerAddress":{"$ref":"/address","const":"0x0000000000000000000000000000000000000001"}}}`, false, "const", "/makerAddress"},
		{"$ref sibling required ignored", `{"$ref":"/signedOrder","required":["nonexistent"]}`, true, "", ""},
		{"chainId is a number", `{"properties":{"chainId":{"type":"integer"}}}`, true, "", ""},
		{"amounts are strings", `{"properties":{"makerAssetAmount":{"type":"string","const":"1000000000000000000"}}}`, true, "", ""},
		{"no extra fields", `{"propertyNames":{"not":{"const":"metadata"}},"minProperties":17,"maxProperties":17}`, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustNew(t, tt.schema)
			mustMatch(t, f, o, tt.match)
			if tt.match {
				return
			}
			m := mismatchOf(t, f, o)
			if m.Rule != RuleCustomSchema || m.Keyword != tt.keyword || m.InstancePointer != tt.pointer {
				t.Fatalf("mismatch %q keyword %q at %q, want keyword %q at %q (%v)",
					m.Rule, m.Keyword, m.InstancePointer, tt.keyword, tt.pointer, m)
			}
			if !strings.Contains(m.Error(), tt.keyword) || m.Reason == "" {
				t.Fatalf("error %q does not say what failed", m.Error())
			}
		})
	}
}

func TestMismatchNamesSchemaLocation(t *testing.T) {
	f := mustNew(t, `{"properties":{"makerAssetData":{"pattern":"^0x02571792"}}}`)
	m := mismatchOf(t, f, testOrder(t))
	const want = customSchemaURL + "#/properties/makerAssetData/pattern"
	if m.SchemaLocation != want {
		t.Fatalf("SchemaLocation = %q, want %q", m.SchemaLocation, want)
	}
	// A failure inside a built-in schema points into it.
	f = mustNew(t, `{"properties":{"takerAddress":{"$ref":"/hex"},"salt":{"$ref":"/address"}}}`)
	m = mismatchOf(t, f, testOrder(t))
	if !strings.HasPrefix(m.SchemaLocation, builtinBase+"address#") || m.InstancePointer != "/salt" {
		t.Fatalf("mismatch %+v, want one in /address at /salt", m)
	}
}

func TestNewRefusesBadSchemas(t *testing.T) {
	tests := []struct {
		name, schema, wantInError string
	}{
		{"not JSON", `{"type":`, "not JSON"},
		{"trailing data", `{} {}`, "not JSON"},
		{"empty", ``, "not JSON"},
		{"invalid keyword value", `{"type":5}`, "does not compile"},
		{"regexp Go cannot run in linear time", `{"pattern":"^(?=a)"}`, "does not compile"},
		{"missing local ref", `{"$ref":"#/definitions/nope"}`, "does not compile"},
		{"missing built-in", `{"$ref":"/orders"}`, "only the built-in schemas"},
		{"file $ref", `{"$ref":"file:///etc/passwd"}`, "only the built-in schemas"},
		{"unknown $schema", `{"$schema":"https://example.com/meta.json"}`, "only the built-in schemas"},
		{"self $ref cycle", `{"$ref":"#"}`, "cannot be evaluated"},
		{"$ref cycle through definitions", `{"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},"$ref":"#/definitions/a"}`, "cannot be evaluated"},
		{"oversized", `{"description":"` + strings.Repeat("x", MaxCustomOrderSchemaSize) + `"}`, "more than the"},
		{"too deep", strings.Repeat(`{"not":`, 200) + `{}` + strings.Repeat(`}`, 200), "nests deeper"},
		{"too deep in data", `{"const":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`, "nests deeper"},
		{"regexps too large", `{"properties":{"salt":{"allOf":[` +
			strings.TrimSuffix(strings.Repeat(`{"pattern":"^(ab){0,999}c$"},`, 12), ",") + `]}}}`, "regexps larger"},
		{"$ref fan-out of 2^12", fanOut(12), "steps"},
		{"pattern on every field, 100 times", `{"patternProperties":{"":{"allOf":[` +
			strings.TrimSuffix(strings.Repeat(`{"pattern":"^0x"},`, 100), ",") + `]}}}`, "steps"},
		{"keyword after draft-07", `{"$schema":"https://json-schema.org/draft/2020-12/schema","unevaluatedProperties":false}`, "after draft-07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(testChainID, tt.schema, testExchange)
			if err == nil {
				t.Fatalf("New accepted %.80s: %v", tt.schema, f)
			}
			if !strings.Contains(err.Error(), tt.wantInError) {
				t.Fatalf("error %q does not contain %q", err, tt.wantInError)
			}
		})
	}
	if _, err := New(-1, "{}", testExchange); err == nil {
		t.Fatal("New accepted a negative chain ID")
	}
}

// fanOut is a schema whose definitions each $ref the next one twice, so
// that checking a salt visits 2^levels subschemas.
func fanOut(levels int) string {
	var b strings.Builder
	b.WriteString(`{"definitions":{`)
	for i := range levels {
		fmt.Fprintf(&b, `"d%d":{"allOf":[{"$ref":"#/definitions/d%d"},{"$ref":"#/definitions/d%d"}]},`, i, i+1, i+1)
	}
	fmt.Fprintf(&b, `"d%d":{"$ref":"/wholeNumber"}},"properties":{"salt":{"$ref":"#/definitions/d0"}}}`, levels)
	return b.String()
}

func TestRealisticSchemasFitTheBounds(t *testing.T) {
	for _, schema := range []string{
		fanOut(5),
		strings.Repeat(`{"not":`, 16) + `{}` + strings.Repeat(`}`, 16),
		`{"anyOf":[` + strings.TrimSuffix(strings.Repeat(`{"$ref":"/signedOrder"},`, 20), ",") + `]}`,
		`{"patternProperties":{"Address$":{"$ref":"/address"},"Data$":{"$ref":"/hex"}},"additionalProperties":{"maxLength":200}}`,
	} {
		mustMatch(t, mustNew(t, schema), testOrder(t), true)
	}
}

func TestSchemaAtTheSizeLimitCompiles(t *testing.T) {
	prefix, suffix := `{"description":"`, `"}`
	schema := prefix + strings.Repeat("x", MaxCustomOrderSchemaSize-len(prefix)-len(suffix)) + suffix
	mustMatch(t, mustNew(t, schema), testOrder(t), true)
}

func TestRefCycleReachedByOneOrderIsAnError(t *testing.T) {
	// New's probe order has salt 0, so this cycle only shows on salt 7.
	f := mustNew(t, `{"if":{"properties":{"salt":{"const":"7"}}},"then":{"$ref":"#"}}`)
	o := testOrder(t)
	mustMatch(t, f, o, true)
	o.Salt = big.NewInt(7)
	if ok, err := f.MatchOrder(o); err == nil || ok {
		t.Fatalf("MatchOrder = %v, %v; want an error", ok, err)
	}
	if _, isMismatch := f.ValidateOrder(o).(*MismatchError); isMismatch {
		t.Fatal("a schema that cannot be evaluated reported a mismatch")
	}
}

func TestNilOrderIsAnError(t *testing.T) {
	f := mustNew(t, "{}")
	if ok, err := f.MatchOrder(nil); ok || err == nil {
		t.Fatalf("MatchOrder(nil) = %v, %v", ok, err)
	}
	if err := f.ValidateOrder(nil); err == nil {
		t.Fatal("ValidateOrder(nil) = nil")
	}
}

func TestMatchOrderConcurrently(t *testing.T) {
	f := mustNew(t, `{"properties":{"makerAssetData":{"pattern":"^0xf47261b0"},"takerFee":{"enum":["0"]}}}`)
	good, bad := testOrder(t), testOrder(t)
	bad.TakerFee = big.NewInt(1)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if ok, err := f.MatchOrder(good); !ok || err != nil {
					t.Errorf("good order: %v, %v", ok, err)
				}
				if ok, err := f.MatchOrder(bad); ok || err != nil {
					t.Errorf("bad order: %v, %v", ok, err)
				}
			}
		})
	}
	wg.Wait()
}

// jsonschema/v6 v6.0.3 dereferences nil when it checks a schema with a
// number big.Rat cannot parse against the meta-schema. A peer must not be
// able to crash us with that.
func TestEnginePanicIsAnError(t *testing.T) {
	for _, schema := range []string{
		`{"properties":{"chainId":{"multipleOf":1e-9999999}}}`,
		`{"if":{"properties":{"salt":{"const":"7"}}},"then":{"properties":{"chainId":{"multipleOf":1e-9999999}}}}`,
	} {
		if _, err := New(testChainID, schema, testExchange); err == nil || !strings.Contains(err.Error(), "panicked") {
			t.Fatalf("New(%s) = %v, want the panic as an error", schema, err)
		}
	}
}

func TestZeroFilterIsAnError(t *testing.T) {
	var f Filter
	o := testOrder(t)
	o.ChainID, o.ExchangeAddress = big.NewInt(0), common.Address{} // pass the built-in checks
	if ok, err := f.MatchOrder(o); ok || err == nil {
		t.Fatalf("zero Filter: MatchOrder = %v, %v", ok, err)
	}
}
