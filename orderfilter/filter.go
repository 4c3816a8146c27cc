package orderfilter

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ordersync/ordersync/zeroex"
)

// DefaultCustomOrderSchema is the custom schema of NewDefault: it accepts
// every well-formed order of the filter's chain and exchange.
const DefaultCustomOrderSchema = "{}"

// Filter decides whether an order is wanted. A Filter is immutable and safe
// for concurrent use, except that UnmarshalJSON replaces it in place: never
// call it on a Filter others use, such as one from Parse.
type Filter struct {
	chainID           int
	exchange          common.Address
	customOrderSchema string
	custom            compiled

	// The JSON forms of chainID and exchange, built once for instance.
	chainIDNumber json.Number
	exchangeHex   string
}

// New compiles a filter that accepts the well-formed orders of chainID and
// exchange whose JSON satisfies customOrderSchema (JSON Schema draft-07 in
// JSON text; "{}" accepts all). It fails, saying why, when the schema is not
// JSON, does not compile, refers to anything but the built-in schemas, uses
// keywords of drafts after 07, exceeds a bound (MaxCustomOrderSchemaSize,
// MaxSchemaDepth, MaxRegexpInstructions, MaxEvaluationSteps) or cannot be
// evaluated (a $ref cycle, a panic in the engine).
func New(chainID int, customOrderSchema string, exchange common.Address) (*Filter, error) {
	if chainID < 0 {
		return nil, fmt.Errorf("orderfilter: chainID %d: negative", chainID)
	}
	custom, err := compile(customOrderSchema)
	if err != nil {
		return nil, err
	}
	f := &Filter{
		chainID:           chainID,
		exchange:          exchange,
		customOrderSchema: customOrderSchema,
		custom:            custom,
		chainIDNumber:     chainIDNumber(chainID),
		exchangeHex:       addressHex(exchange),
	}
	// Most schemas that cannot be evaluated show it on any order; catch
	// them here rather than on every order a peer sends.
	if _, err := f.runSchema(probeOrder(chainID, exchange)); err != nil {
		return nil, err
	}
	return f, nil
}

// NewDefault is New with DefaultCustomOrderSchema: every well-formed order of
// chainID and exchange matches.
func NewDefault(chainID int, exchange common.Address) (*Filter, error) {
	return New(chainID, DefaultCustomOrderSchema, exchange)
}

// NewDefaultForChain is NewDefault with the 0x v3 Exchange of chainID
// (zeroex.ExchangeAddress): the filter a node of that chain uses when told
// nothing else. For a chain without a known Exchange the error is a
// *zeroex.UnknownChainError; such a node must name its exchange (New,
// NewDefault).
func NewDefaultForChain(chainID int) (*Filter, error) {
	exchange, err := zeroex.ExchangeAddress(chainID)
	if err != nil {
		return nil, fmt.Errorf("orderfilter: %w", err)
	}
	return NewDefault(chainID, exchange)
}

// ChainID is the chain ID an order must have.
func (f *Filter) ChainID() int { return f.chainID }

// ExchangeAddress is the exchange address an order must have.
func (f *Filter) ExchangeAddress() common.Address { return f.exchange }

// CustomOrderSchema is the custom schema, as given to New.
func (f *Filter) CustomOrderSchema() string { return f.customOrderSchema }

// MatchOrder reports whether o passes every check of f. An order with a
// missing or out-of-range field does not match. The error is not "does not
// match" but "cannot tell": o is nil, f is a zero Filter, or the custom
// schema cannot be evaluated on o (a $ref cycle that only this order
// reaches, a panic in the engine).
func (f *Filter) MatchOrder(o *zeroex.SignedOrder) (bool, error) {
	if o == nil {
		return false, errors.New("orderfilter: MatchOrder: nil order")
	}
	if f.builtinMismatch(o) != nil {
		return false, nil
	}
	failure, err := f.runSchema(o)
	if err != nil {
		return false, err
	}
	return failure == nil, nil
}

// ValidateOrder is MatchOrder that says why: nil when o matches, a
// *MismatchError naming the first failed check when it does not, another
// error when MatchOrder would return one.
func (f *Filter) ValidateOrder(o *zeroex.SignedOrder) error {
	if o == nil {
		return errors.New("orderfilter: ValidateOrder: nil order")
	}
	if m := f.builtinMismatch(o); m != nil {
		return m
	}
	failure, err := f.runSchema(o)
	if err != nil {
		return err
	}
	if failure != nil {
		return schemaMismatch(failure)
	}
	return nil
}

// builtinMismatch runs the built-in checks natively on the typed fields; nil
// when all pass.
func (f *Filter) builtinMismatch(o *zeroex.SignedOrder) *MismatchError {
	if field, reason := malformedField(o); field != "" {
		return &MismatchError{Rule: RuleWellFormed, InstancePointer: "/" + field, Reason: reason}
	}
	if !o.ChainID.IsInt64() || o.ChainID.Int64() != int64(f.chainID) {
		return &MismatchError{Rule: RuleChainID, InstancePointer: "/chainId",
			Reason: fmt.Sprintf("%s, want %d", o.ChainID, f.chainID)}
	}
	if o.ExchangeAddress != f.exchange {
		return &MismatchError{Rule: RuleExchangeAddress, InstancePointer: "/exchangeAddress",
			Reason: fmt.Sprintf("%s, want %s", addressHex(o.ExchangeAddress), f.exchangeHex)}
	}
	return nil
}

// runSchema applies the custom schema to o, which has passed the built-in
// checks. It returns the engine's failure when o does not satisfy the
// schema, and an error when the schema cannot be evaluated on o.
func (f *Filter) runSchema(o *zeroex.SignedOrder) (*jsonschema.ValidationError, error) {
	if f.custom.trivial {
		return nil, nil
	}
	if f.custom.schema == nil {
		return nil, errors.New("orderfilter: Filter not made by New, NewDefault, Parse or UnmarshalJSON")
	}
	return f.runEngine(o)
}

// runEngine is runSchema's slow path, apart so that the trivial path
// allocates nothing.
func (f *Filter) runEngine(o *zeroex.SignedOrder) (failure *jsonschema.ValidationError, err error) {
	defer func() {
		if r := recover(); r != nil {
			failure, err = nil, fmt.Errorf("orderfilter: customOrderSchema: schema engine panicked: %v", r)
		}
	}()
	verr := f.custom.schema.Validate(f.instance(o))
	if verr == nil {
		return nil, nil
	}
	failure, ok := verr.(*jsonschema.ValidationError)
	if !ok {
		return nil, fmt.Errorf("orderfilter: customOrderSchema cannot be evaluated: %w", verr)
	}
	if broken := unevaluable(failure); broken != nil {
		return nil, fmt.Errorf("orderfilter: customOrderSchema cannot be evaluated: %s", describe(broken))
	}
	return failure, nil
}

// probeOrder is a well-formed order of chainID and exchange for New to try a
// schema on: zero addresses and amounts, 20-byte asset data, a 66-byte
// signature.
func probeOrder(chainID int, exchange common.Address) *zeroex.SignedOrder {
	assetData, _ := hex.DecodeString("f47261b0000000000000000000000000000000000000000000000000000000000000000000")
	zero := func() *big.Int { return new(big.Int) }
	return &zeroex.SignedOrder{
		Order: zeroex.Order{
			ChainID:               big.NewInt(int64(chainID)),
			ExchangeAddress:       exchange,
			MakerAssetData:        assetData,
			MakerAssetAmount:      zero(),
			MakerFee:              zero(),
			TakerAssetData:        assetData,
			TakerAssetAmount:      zero(),
			TakerFee:              zero(),
			ExpirationTimeSeconds: zero(),
			Salt:                  zero(),
		},
		Signature: make([]byte, 66),
	}
}
