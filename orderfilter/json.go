package orderfilter

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// maxFilterJSONSize bounds a filter's JSON before it is decoded: the custom
// schema escaped at worst (6 bytes per byte, as \u00XX) plus the rest.
const maxFilterJSONSize = 6*MaxCustomOrderSchemaSize + 1024

// wireFilter is a filter as it travels (docs/protocol.md, "Order filters"); the field
// order is the one existing nodes write.
type wireFilter struct {
	CustomOrderSchema string `json:"customOrderSchema"`
	ChainID           int    `json:"chainID"`
	ExchangeAddress   string `json:"exchangeAddress"`
}

// MarshalJSON writes f as the network's filter JSON:
// {"customOrderSchema":"<schema>","chainID":1,"exchangeAddress":"0x<lowercase hex>"}.
func (f *Filter) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireFilter{
		CustomOrderSchema: f.customOrderSchema,
		ChainID:           f.chainID,
		ExchangeAddress:   f.exchangeHex,
	})
}

// UnmarshalJSON replaces f with the filter that data describes, compiled
// and ready to use, or fails saying which field is wrong and leaves f as it
// was. All three fields are required; the exchange address may be in any
// case. It shares Parse's cache: f becomes a copy of the cached filter.
func (f *Filter) UnmarshalJSON(data []byte) error {
	parsed, err := Parse(data)
	if err != nil {
		return err
	}
	*f = *parsed
	return nil
}

// decode builds a Filter from its JSON.
func decode(data []byte) (*Filter, error) {
	if len(data) > maxFilterJSONSize {
		return nil, fmt.Errorf("orderfilter: filter JSON: %d bytes, more than the %d allowed", len(data), maxFilterJSONSize)
	}
	var fields struct {
		CustomOrderSchema *string         `json:"customOrderSchema"`
		ChainID           json.RawMessage `json:"chainID"`
		ExchangeAddress   *string         `json:"exchangeAddress"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&fields); err != nil {
		return nil, fmt.Errorf("orderfilter: filter JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("orderfilter: filter JSON: data after the filter object")
	}
	switch {
	case fields.CustomOrderSchema == nil:
		return nil, errors.New(`orderfilter: filter JSON: field "customOrderSchema" missing`)
	case fields.ChainID == nil || string(fields.ChainID) == "null":
		return nil, errors.New(`orderfilter: filter JSON: field "chainID" missing`)
	case fields.ExchangeAddress == nil:
		return nil, errors.New(`orderfilter: filter JSON: field "exchangeAddress" missing`)
	}
	// Atoi takes exactly a JSON integer: no fraction, exponent or quotes.
	chainID, err := strconv.Atoi(string(fields.ChainID))
	if err != nil {
		return nil, fmt.Errorf("orderfilter: filter JSON: field %q: %.40s is not an int", "chainID", fields.ChainID)
	}
	exchange, err := parseAddress(*fields.ExchangeAddress)
	if err != nil {
		return nil, fmt.Errorf("orderfilter: filter JSON: field %q: %w", "exchangeAddress", err)
	}
	return New(chainID, *fields.CustomOrderSchema, exchange)
}

// parseAddress reads "0x" and 40 hex digits in any case (checksummed or not:
// the bytes are what a filter compares).
func parseAddress(s string) (common.Address, error) {
	digits, ok := strings.CutPrefix(s, "0x")
	if !ok || len(digits) != 2*common.AddressLength {
		return common.Address{}, fmt.Errorf("%q is not 0x and 40 hex digits", s)
	}
	var a common.Address
	if _, err := hex.Decode(a[:], []byte(digits)); err != nil {
		return common.Address{}, fmt.Errorf("%q is not 0x and 40 hex digits", s)
	}
	return a, nil
}
