package zeroex

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/bits"
	"unsafe"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/jsonlex"
	"github.com/ordersync/ordersync/internal/orderjson"
	"github.com/ordersync/ordersync/internal/orderprefix"
)

// The fields of a signed order, numbered in wire order; a decoder marks the
// ones it has seen in a bit set.
const (
	idxChainID = iota
	idxExchangeAddress
	idxMakerAddress
	idxMakerAssetData
	idxMakerFeeAssetData
	idxMakerAssetAmount
	idxMakerFee
	idxTakerAddress
	idxTakerAssetData
	idxTakerFeeAssetData
	idxTakerAssetAmount
	idxTakerFee
	idxSenderAddress
	idxFeeRecipientAddress
	idxExpirationTimeSeconds
	idxSalt
	idxSignature
	numFields

	allFields = 1<<numFields - 1
)

var fieldNames = [numFields]string{
	fieldChainID, fieldExchangeAddress, fieldMakerAddress, fieldMakerAssetData,
	fieldMakerFeeAssetData, fieldMakerAssetAmount, fieldMakerFee, fieldTakerAddress,
	fieldTakerAssetData, fieldTakerFeeAssetData, fieldTakerAssetAmount, fieldTakerFee,
	fieldSenderAddress, fieldFeeRecipientAddress, fieldExpirationTimeSeconds, fieldSalt,
	fieldSignature,
}

// fieldIndex returns the index of the JSON field called key, or -1. The
// switch on string(key) does not allocate.
func fieldIndex(key []byte) int {
	switch string(key) {
	case fieldChainID:
		return idxChainID
	case fieldExchangeAddress:
		return idxExchangeAddress
	case fieldMakerAddress:
		return idxMakerAddress
	case fieldMakerAssetData:
		return idxMakerAssetData
	case fieldMakerFeeAssetData:
		return idxMakerFeeAssetData
	case fieldMakerAssetAmount:
		return idxMakerAssetAmount
	case fieldMakerFee:
		return idxMakerFee
	case fieldTakerAddress:
		return idxTakerAddress
	case fieldTakerAssetData:
		return idxTakerAssetData
	case fieldTakerFeeAssetData:
		return idxTakerFeeAssetData
	case fieldTakerAssetAmount:
		return idxTakerAssetAmount
	case fieldTakerFee:
		return idxTakerFee
	case fieldSenderAddress:
		return idxSenderAddress
	case fieldFeeRecipientAddress:
		return idxFeeRecipientAddress
	case fieldExpirationTimeSeconds:
		return idxExpirationTimeSeconds
	case fieldSalt:
		return idxSalt
	case fieldSignature:
		return idxSignature
	}
	return -1
}

// numNumbers is how many numeric fields an order has; wordsPerUint256 how
// many big.Words hold one of them.
const (
	numNumbers      = 7
	wordsPerUint256 = 256 / bits.UintSize
)

// UnmarshalJSON decodes a signed order in the network's JSON form. It is strict:
// every one of the 17 fields must be present exactly once and well formed,
// and nothing else may be there. Fields may come in any order with any JSON
// whitespace around them; addresses may be lowercase, uppercase or EIP-55
// checksummed (a mixed-case address must have a correct checksum).
//
// The error names the field and what was wrong with it. On error s is left
// unchanged.
//
// While an SQL store is open in the program (orderstore/sqlstore), an order
// that arrived in exactly the form MarshalJSON writes keeps a copy of those
// bytes as its cached encoding, so that the store need not encode it again.
func (s *SignedOrder) UnmarshalJSON(data []byte) error {
	return s.unmarshalJSON(data, false)
}

// unmarshalJSON is UnmarshalJSON; generalOnly turns off the fast paths for
// the common form (knownKey, quotedHex, quotedDigits), so that the fuzz
// target can hold the two paths to the same results.
func (s *SignedOrder) unmarshalJSON(data []byte, generalOnly bool) error {
	d := decoder{Lexer: jsonlex.Lexer{Data: data}, generalOnly: generalOnly}
	var out SignedOrder
	if err := d.decodeOrder(&out); err != nil {
		return err
	}
	d.SkipSpace()
	if d.Pos != len(d.Data) {
		return d.syntaxError("unexpected data after the order")
	}
	d.keepCanonical(&out)
	*s = out
	return nil
}

// internal/wire's response decoder reaches unmarshalJSONPrefix through
// orderprefix: it is no part of zeroex's API.
func init() {
	orderprefix.Decode = func(order any, data []byte) (int, error) {
		return order.(*SignedOrder).unmarshalJSONPrefix(data)
	}
	orderjson.Cached = func(order any) []byte {
		return order.(*SignedOrder).cachedJSON()
	}
}

// unmarshalJSONPrefix decodes the signed order whose JSON object begins
// data (after any whitespace) exactly as UnmarshalJSON decodes a whole
// document, and returns how many bytes of data it took, up to and
// including the object's closing brace; what follows is the caller's. A
// decoder of a larger document, such as a page of orders, decodes each
// order where it lies with it, instead of first scanning for where the
// order ends. On error s is left unchanged.
func (s *SignedOrder) unmarshalJSONPrefix(data []byte) (int, error) {
	d := decoder{Lexer: jsonlex.Lexer{Data: data}}
	var out SignedOrder
	if err := d.decodeOrder(&out); err != nil {
		return 0, err
	}
	d.keepCanonical(&out)
	*s = out
	return d.Pos, nil
}

// decoder is a one-pass reader of one signed order's JSON.
type decoder struct {
	jsonlex.Lexer

	// The numbers and the hex of the byte fields are gathered while
	// reading and given their memory at the end (see finish), exactly
	// what they need in three allocations: a received order is kept, so
	// every byte reserved for it and not used is held as long as it is.
	nums  [numNumbers]uint256
	hexes [numByteFields][]byte // digits, aliasing data (or an unescaped copy)

	generalOnly bool // see unmarshalJSON

	// start is where the order's object begins. notCanonical is set when
	// a token is not as MarshalJSON writes it (a field out of wire order,
	// an uppercase hex digit, a leading zero, an escape); valueBytes
	// counts the bytes of the fields' values, so that keepCanonical can tell
	// whitespace from the object's length alone.
	start        int
	notCanonical bool
	valueBytes   int
	// keep is whether to keep the JSON at all (orderjson.Wanted); without
	// it the hex is not checked for letter case.
	keep bool
}

// canonicalFixedBytes is the length of a signed order's encoding without
// its values: the braces, the commas, and each field's quoted name and
// colon.
var canonicalFixedBytes = func() int {
	n := 2 + numFields - 1
	for _, name := range fieldNames {
		n += len(name) + 3
	}
	return n
}()

// keepCanonical caches on s (as its JSON encoding) a copy of the object the
// decoder has just read, when that object is byte for byte what MarshalJSON
// would write for s and an open store wants it (orderjson.Want): the store,
// or a responder, then writes the bytes that arrived instead of encoding
// the order again. The copy is exactly as long as the object, and nothing
// else of the input is kept.
func (d *decoder) keepCanonical(s *SignedOrder) {
	if !d.keep || d.notCanonical || d.Pos-d.start != canonicalFixedBytes+d.valueBytes {
		return
	}
	buf := append(make([]byte, 0, d.Pos-d.start), d.Data[d.start:d.Pos]...)
	s.json = unsafe.Pointer(&buf)
}

// uint256 is a number as the decoder reads it, least significant word first.
type uint256 [4]uint64

// numByteFields is how many fields of a signed order are hex bytes: the four
// asset datas and the signature.
const numByteFields = 5

func (d *decoder) decodeOrder(s *SignedOrder) error {
	d.SkipSpace()
	if d.Peek() != '{' {
		return fmt.Errorf("zeroex: signed order: want a JSON object, got %s", d.kindHere())
	}
	d.start = d.Pos
	d.keep = !d.generalOnly && orderjson.Wanted()
	d.Pos++

	var seen uint32
	d.SkipSpace()
	if d.Peek() == '}' {
		d.Pos++
	} else {
		f := -1
		for {
			d.SkipSpace()
			if d.Peek() != '"' {
				return d.syntaxError("want a field name")
			}
			// Peers write the fields in wire order: expect the one after
			// the last, and read and look up the name only if it is not.
			if f++; !d.knownKey(f) {
				d.notCanonical = true
				key, err := d.readString("")
				if err != nil {
					return err
				}
				if f = fieldIndex(key); f < 0 {
					return fmt.Errorf("zeroex: unknown field %s", quoteShort(key))
				}
			}
			if seen&(1<<f) != 0 {
				return fieldError(fieldNames[f], "duplicate field")
			}
			seen |= 1 << f
			d.SkipSpace()
			if d.Peek() != ':' {
				return d.syntaxError(fmt.Sprintf("want ':' after field name %q", fieldNames[f]))
			}
			d.Pos++
			d.SkipSpace()
			valueStart := d.Pos
			if err := d.decodeField(f, s); err != nil {
				return err
			}
			d.valueBytes += d.Pos - valueStart
			d.SkipSpace()
			c := d.Peek()
			d.Pos++
			if c == ',' {
				continue
			}
			if c == '}' {
				break
			}
			d.Pos--
			return d.syntaxError(fmt.Sprintf("want ',' or '}' after field %q", fieldNames[f]))
		}
	}
	if seen != allFields {
		for f := 0; f < numFields; f++ {
			if seen&(1<<f) == 0 {
				return fieldError(fieldNames[f], "missing")
			}
		}
	}
	d.finish(s)
	return nil
}

// The slots of the numbers in decoder.nums and of the byte fields in
// decoder.hexes.
const (
	numChainID = iota
	numMakerAssetAmount
	numMakerFee
	numTakerAssetAmount
	numTakerFee
	numExpirationTimeSeconds
	numSalt
)

const (
	hexMakerAssetData = iota
	hexMakerFeeAssetData
	hexTakerAssetData
	hexTakerFeeAssetData
	hexSignature
)

// finish gives s its numbers and byte fields, once every field has been read
// and checked: the seven big.Ints in one allocation, their words (only the
// significant ones) in a second, and the bytes of the five byte fields in a
// third. Each byte field's capacity ends where it does, so that appending
// to one never writes into the next.
func (d *decoder) finish(s *SignedOrder) {
	ints := new([numNumbers]big.Int)
	nWords := 0
	for _, z := range d.nums {
		nWords += significantWords(z)
	}
	words := make([]big.Word, 0, nWords)
	for i, z := range d.nums {
		start := len(words)
		words = appendWords(words, z)
		ints[i].SetBits(words[start:len(words):len(words)])
	}
	s.ChainID = &ints[numChainID]
	s.MakerAssetAmount = &ints[numMakerAssetAmount]
	s.MakerFee = &ints[numMakerFee]
	s.TakerAssetAmount = &ints[numTakerAssetAmount]
	s.TakerFee = &ints[numTakerFee]
	s.ExpirationTimeSeconds = &ints[numExpirationTimeSeconds]
	s.Salt = &ints[numSalt]

	nBytes := 0
	for _, h := range d.hexes {
		nBytes += len(h) / 2
	}
	buf := make([]byte, nBytes)
	field := func(k int) []byte {
		n := len(d.hexes[k]) / 2
		b := buf[:n:n]
		decodeCheckedHex(b, d.hexes[k])
		buf = buf[n:]
		return b
	}
	s.MakerAssetData = field(hexMakerAssetData)
	s.MakerFeeAssetData = field(hexMakerFeeAssetData)
	s.TakerAssetData = field(hexTakerAssetData)
	s.TakerFeeAssetData = field(hexTakerFeeAssetData)
	s.Signature = field(hexSignature)
}

// significantWords is how many big.Words z needs, leading zero words left out.
func significantWords(z uint256) int {
	n := len(z)
	for n > 0 && z[n-1] == 0 {
		n--
	}
	return n * 64 / bits.UintSize
}

// appendWords appends the significant words of z as big.Words, least
// significant first.
func appendWords(w []big.Word, z uint256) []big.Word {
	n := significantWords(z)
	for _, x := range z {
		if n == 0 {
			break
		}
		if bits.UintSize == 64 {
			w = append(w, big.Word(x))
			n--
		} else {
			w = append(w, big.Word(uint32(x)), big.Word(x>>32))
			n -= 2
		}
	}
	return w
}

// decodeField decodes the value at d.Pos into field f of s; numbers and
// byte fields are checked here and kept in d until finish.
func (d *decoder) decodeField(f int, s *SignedOrder) error {
	name := fieldNames[f]
	var err error
	switch f {
	case idxChainID:
		d.nums[numChainID], err = d.jsonNumber(name)
	case idxExchangeAddress:
		s.ExchangeAddress, err = d.address(name)
	case idxMakerAddress:
		s.MakerAddress, err = d.address(name)
	case idxTakerAddress:
		s.TakerAddress, err = d.address(name)
	case idxSenderAddress:
		s.SenderAddress, err = d.address(name)
	case idxFeeRecipientAddress:
		s.FeeRecipientAddress, err = d.address(name)
	case idxMakerAssetData:
		d.hexes[hexMakerAssetData], err = d.hexBytes(name)
	case idxMakerFeeAssetData:
		d.hexes[hexMakerFeeAssetData], err = d.hexBytes(name)
	case idxTakerAssetData:
		d.hexes[hexTakerAssetData], err = d.hexBytes(name)
	case idxTakerFeeAssetData:
		d.hexes[hexTakerFeeAssetData], err = d.hexBytes(name)
	case idxSignature:
		d.hexes[hexSignature], err = d.hexBytes(name)
	case idxMakerAssetAmount:
		d.nums[numMakerAssetAmount], err = d.decimalString(name)
	case idxMakerFee:
		d.nums[numMakerFee], err = d.decimalString(name)
	case idxTakerAssetAmount:
		d.nums[numTakerAssetAmount], err = d.decimalString(name)
	case idxTakerFee:
		d.nums[numTakerFee], err = d.decimalString(name)
	case idxExpirationTimeSeconds:
		d.nums[numExpirationTimeSeconds], err = d.decimalString(name)
	case idxSalt:
		d.nums[numSalt], err = d.decimalString(name)
	}
	return err
}

// kindHere names the kind of JSON value that starts at d.Pos.
func (d *decoder) kindHere() string {
	if d.Pos >= len(d.Data) {
		return "end of input"
	}
	switch c := d.Data[d.Pos]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || ('0' <= c && c <= '9'):
		return "a number"
	default:
		return fmt.Sprintf("invalid character %q", c)
	}
}

func (d *decoder) syntaxError(what string) error {
	if d.Pos >= len(d.Data) {
		return fmt.Errorf("zeroex: signed order: invalid JSON: %s, got end of input", what)
	}
	return fmt.Errorf("zeroex: signed order: invalid JSON at offset %d: %s, got %q", d.Pos, what, d.Data[d.Pos])
}

// knownKey consumes the field name at d.Pos (which is '"') if it is
// fieldNames[f] exactly, without escapes, and reports whether it was.
func (d *decoder) knownKey(f int) bool {
	if f >= numFields || d.generalOnly {
		return false
	}
	name := fieldNames[f]
	end := d.Pos + 1 + len(name)
	if end >= len(d.Data) || d.Data[end] != '"' || string(d.Data[d.Pos+1:end]) != name {
		return false
	}
	d.Pos = end + 1
	return true
}

// quotedHex consumes the string value at d.Pos if it is "0x" and an even
// number of hex digits, as peers write byte fields and addresses, and
// returns the digits. Anything else (escapes, bad digits, no string)
// leaves d.Pos alone and returns false, for the general path to read or
// refuse: a hex digit is never a quote, a backslash or a control
// character, so both paths agree wherever this one succeeds.
func (d *decoder) quotedHex() ([]byte, bool) {
	data, p := d.Data, d.Pos+1
	if d.generalOnly || p+2 > len(data) || data[p-1] != '"' || data[p] != '0' || data[p+1] != 'x' {
		return nil, false
	}
	i := p + 2
	var cases byte
	if d.keep {
		for i < len(data) && hexValue[data[i]] != badHex {
			cases |= hexCase[data[i]]
			i++
		}
	} else {
		for i < len(data) && hexValue[data[i]] != badHex {
			i++
		}
	}
	if i == len(data) || data[i] != '"' || (i-p)%2 != 0 {
		return nil, false
	}
	if cases&caseUpper != 0 {
		d.notCanonical = true // MarshalJSON writes lowercase hex
	}
	d.Pos = i + 1
	return data[p+2 : i], true
}

// quotedDigits is quotedHex for a string of decimal digits.
func (d *decoder) quotedDigits() ([]byte, bool) {
	data, p := d.Data, d.Pos+1
	if d.generalOnly || p > len(data) || data[p-1] != '"' {
		return nil, false
	}
	i := p
	for i < len(data) && data[i]-'0' <= 9 {
		i++
	}
	if i == p || i == len(data) || data[i] != '"' {
		return nil, false
	}
	d.Pos = i + 1
	return data[p:i], true
}

// readString reads the JSON string at d.Pos (which is '"') and returns its
// contents. Without escapes (the normal case) the result aliases the input;
// with escapes it is a fresh copy, decoded by encoding/json. field names the
// field whose value it is, for errors; "" means a field name.
func (d *decoder) readString(field string) ([]byte, error) {
	start := d.Pos + 1
	for i := start; i < len(d.Data); i++ {
		switch c := d.Data[i]; {
		case c == '"':
			d.Pos = i + 1
			return d.Data[start:i], nil
		case c == '\\':
			return d.readEscapedString(field)
		case c < 0x20:
			return nil, stringError(field, "control character %q in string", c)
		}
	}
	return nil, stringError(field, "unterminated string")
}

// stringError is the error for a bad JSON string in field ("" for a field
// name).
func stringError(field, format string, args ...interface{}) error {
	if field == "" {
		return fmt.Errorf("zeroex: field name: "+format, args...)
	}
	return fieldError(field, format, args...)
}

// readEscapedString is readString's slow path for strings with escapes.
func (d *decoder) readEscapedString(field string) ([]byte, error) {
	tok, err := d.StringToken()
	if err != nil {
		return nil, stringError(field, "unterminated string")
	}
	var str string
	if err := json.Unmarshal(tok, &str); err != nil {
		return nil, stringError(field, "bad string: %v", err)
	}
	return []byte(str), nil
}

// stringValue reads the string value of field name.
func (d *decoder) stringValue(name string) ([]byte, error) {
	if d.Peek() != '"' {
		return nil, fieldError(name, "want a string, got %s", d.kindHere())
	}
	return d.readString(name)
}

// quoteShort quotes v for an error message, cut short so that a hostile
// peer cannot make error messages huge.
func quoteShort(v []byte) string {
	const max = 80
	if len(v) > max {
		return fmt.Sprintf("%q...", v[:max])
	}
	return fmt.Sprintf("%q", v)
}

// hexBytes reads a "0x"-prefixed hex string of even length and returns its
// digits, checked; finish decodes them.
func (d *decoder) hexBytes(name string) ([]byte, error) {
	if digits, ok := d.quotedHex(); ok {
		return digits, nil
	}
	d.notCanonical = true
	v, err := d.stringValue(name)
	if err != nil {
		return nil, err
	}
	return hexDigits(name, v)
}

// address reads a "0x"-prefixed 40-digit hex address.
func (d *decoder) address(name string) (common.Address, error) {
	var a common.Address
	start := d.Pos
	digits, ok := d.quotedHex()
	var v []byte // the string's contents, for errors
	if ok {
		v = d.Data[start+1 : d.Pos-1]
	} else {
		d.notCanonical = true
		var err error
		if v, err = d.stringValue(name); err != nil {
			return a, err
		}
		if digits, err = hexDigits(name, v); err != nil {
			return a, err
		}
	}
	if len(digits) != 2*common.AddressLength {
		return a, fieldError(name, "wrong address length: %d bytes, want %d: %s", len(digits)/2, common.AddressLength, quoteShort(v))
	}
	upper, lower := decodeHex(a[:], digits)
	if upper && lower && a.Hex()[2:] != string(digits) {
		return a, fieldError(name, "bad EIP-55 checksum: %s", quoteShort(v))
	}
	return a, nil
}

// hexDigits checks that v is "0x" and an even number of hex digits, and
// returns the digits.
func hexDigits(name string, v []byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '0' || v[1] != 'x' {
		return nil, fieldError(name, "not 0x-prefixed hex: %s", quoteShort(v))
	}
	digits := v[2:]
	for _, c := range digits {
		if hexValue[c] == badHex {
			return nil, fieldError(name, "bad hex digit %q: %s", c, quoteShort(v))
		}
	}
	if len(digits)%2 != 0 {
		return nil, fieldError(name, "odd hex length %d: %s", len(digits), quoteShort(v))
	}
	return digits, nil
}

const badHex = 0xff

// hexValue maps an ASCII hex digit to its value, anything else to badHex.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = badHex
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

// decodeCheckedHex decodes checked hex digits into out (len(digits)/2
// bytes): decodeHex without the letter cases, which only addresses need.
func decodeCheckedHex(out, digits []byte) {
	if len(out) == 0 {
		return
	}
	_ = digits[2*len(out)-1] // one bounds check for the loop
	for i := range out {
		out[i] = hexValue[digits[2*i]]<<4 | hexValue[digits[2*i+1]]
	}
}

// The letter cases of hex digits, as hexCase gives them.
const (
	caseUpper = 1 << iota
	caseLower
)

// hexCase maps 'A'-'F' to caseUpper, 'a'-'f' to caseLower, anything else
// to 0.
var hexCase = func() (t [256]byte) {
	for c := 'a'; c <= 'f'; c++ {
		t[c], t[c-'a'+'A'] = caseLower, caseUpper
	}
	return t
}()

// decodeHex decodes checked hex digits into out (len(digits)/2 bytes) and
// reports whether it saw upper- and lowercase letters.
func decodeHex(out, digits []byte) (upper, lower bool) {
	if len(out) == 0 {
		return false, false
	}
	_ = digits[2*len(out)-1] // one bounds check for the loop
	var cases byte
	for i := range out {
		hi, lo := digits[2*i], digits[2*i+1]
		out[i] = hexValue[hi]<<4 | hexValue[lo]
		cases |= hexCase[hi] | hexCase[lo]
	}
	return cases&caseUpper != 0, cases&caseLower != 0
}

// decimalString reads a string of decimal digits that fits a uint256.
func (d *decoder) decimalString(name string) (uint256, error) {
	if digits, ok := d.quotedDigits(); ok {
		if len(digits) > 1 && digits[0] == '0' {
			d.notCanonical = true // MarshalJSON writes no leading zeros
		}
		return parseUint256(name, digits)
	}
	d.notCanonical = true
	v, err := d.stringValue(name)
	if err != nil {
		return uint256{}, err
	}
	if len(v) > 0 {
		switch v[0] {
		case '+':
			return uint256{}, fieldError(name, "has a leading '+': %s", quoteShort(v))
		case '-':
			return uint256{}, fieldError(name, "negative: %s", quoteShort(v))
		}
	}
	return parseUint256(name, v)
}

// jsonNumber reads a JSON number that must be an integer fitting a uint256.
func (d *decoder) jsonNumber(name string) (uint256, error) {
	start := d.Pos
	for d.Pos < len(d.Data) {
		c := d.Data[d.Pos]
		if !('0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			break
		}
		d.Pos++
	}
	v := d.Data[start:d.Pos]
	if len(v) == 0 {
		return uint256{}, fieldError(name, "want a JSON number, got %s", d.kindHere())
	}
	switch {
	case v[0] == '-':
		return uint256{}, fieldError(name, "negative: %s", quoteShort(v))
	case v[0] == '+':
		return uint256{}, fieldError(name, "has a leading '+': %s", quoteShort(v))
	case len(v) > 1 && v[0] == '0':
		return uint256{}, fieldError(name, "not a valid JSON integer (leading zero): %s", quoteShort(v))
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return uint256{}, fieldError(name, "not a non-negative integer: %s", quoteShort(v))
		}
	}
	return parseUint256(name, v)
}

// maxUint256Digits is the number of decimal digits of 2^256-1.
const maxUint256Digits = 78

// pow10 holds 10^0 to 10^19.
var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// parseUint256 parses decimal digits v (leading zeros allowed).
func parseUint256(name string, v []byte) (uint256, error) {
	if len(v) == 0 {
		return uint256{}, fieldError(name, "not a decimal number: %s", quoteShort(v))
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return uint256{}, fieldError(name, "not a decimal number: %s", quoteShort(v))
		}
	}
	digits := v
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) > maxUint256Digits {
		return uint256{}, fieldError(name, "above 2^256-1: %s", quoteShort(v))
	}
	var z uint256
	for len(digits) > 0 {
		k := min(len(digits), 19)
		var chunk uint64
		for _, c := range digits[:k] {
			chunk = chunk*10 + uint64(c-'0')
		}
		// z = z*10^k + chunk; the high half of a product by 10^k is below
		// 2^64-1, so adding a carry bit to it cannot overflow.
		carry := chunk
		for i := range z {
			hi, lo := bits.Mul64(z[i], pow10[k])
			var c uint64
			z[i], c = bits.Add64(lo, carry, 0)
			carry = hi + c
		}
		if carry != 0 {
			return uint256{}, fieldError(name, "above 2^256-1: %s", quoteShort(v))
		}
		digits = digits[k:]
	}
	return z, nil
}
