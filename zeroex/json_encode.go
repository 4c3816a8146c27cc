package zeroex

import (
	"encoding/hex"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ethereum/go-ethereum/common"
)

// jsonSizeHint is a typical encoded size of a signed ERC-20 order; encoding
// into a buffer this big rarely has to grow it.
const jsonSizeHint = 1400

// MarshalJSON encodes the signed order as the network's 17-field JSON object,
// byte for byte what existing nodes write. The encoding is cached on the
// order; the returned slice is the caller's own. It fails when a numeric
// field is nil, negative or above 2^256-1.
//
// The receiver is a pointer so that the cache sticks: encode a
// *SignedOrder (as []*SignedOrder does), since encoding/json ignores
// pointer methods on a SignedOrder value that is not addressable.
func (s *SignedOrder) MarshalJSON() ([]byte, error) {
	if c := s.cachedJSON(); c != nil {
		return append([]byte(nil), c...), nil
	}
	enc, err := s.encodeAndCache()
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), enc...), nil
}

// AppendJSON appends the JSON encoding of the signed order (as MarshalJSON
// writes it) to dst and returns the extended slice. On error dst is returned
// unchanged. Use it to write many orders into one buffer.
func (s *SignedOrder) AppendJSON(dst []byte) ([]byte, error) {
	if c := s.cachedJSON(); c != nil {
		return append(dst, c...), nil
	}
	enc, err := s.encodeAndCache()
	if err != nil {
		return dst, err
	}
	return append(dst, enc...), nil
}

// AppendJSONUncached appends the JSON encoding of the signed order to dst,
// as AppendJSON does, but keeps no new cache on the order: the cached
// encoding is used if there is one, otherwise the order is encoded into dst
// and nothing else. Use it for orders encoded once or rarely (writing a
// file, a node that only syncs), where a cache would hold about a kilobyte
// per order for nothing. On error dst is returned unchanged.
func (s *SignedOrder) AppendJSONUncached(dst []byte) ([]byte, error) {
	if c := s.cachedJSON(); c != nil {
		return append(dst, c...), nil
	}
	if err := s.checkNumbers(); err != nil {
		return dst, err
	}
	return s.appendSigned(dst), nil
}

// appendSigned appends the encoding of s. Its numbers must have passed
// checkNumbers.
func (s *SignedOrder) appendSigned(b []byte) []byte {
	b = s.appendFields(b, '{')
	b = appendBytesField(b, ',', fieldSignature, s.Signature)
	return append(b, '}')
}

// MarshalJSON encodes the 16 fields of the unsigned order, in the same form
// as SignedOrder's encoding without "signature". It is not cached.
func (o *Order) MarshalJSON() ([]byte, error) {
	if err := o.checkNumbers(); err != nil {
		return nil, err
	}
	buf := o.appendFields(make([]byte, 0, jsonSizeHint), '{')
	return append(buf, '}'), nil
}

// encodeAndCache encodes s and stores the result as its cache. Two
// goroutines may both encode; they produce the same bytes, and either
// result is a fine cache.
//
// The cache is exactly as long as the encoding: it is encoded into a pooled
// buffer and copied, because the cache lives as long as the order, and an
// encoding in a buffer sized for the largest orders would hold some 400
// unused bytes per order.
func (s *SignedOrder) encodeAndCache() ([]byte, error) {
	if err := s.checkNumbers(); err != nil {
		return nil, err
	}
	scratch := encodePool.Get().(*[]byte)
	enc := s.appendSigned((*scratch)[:0])
	// The exact length, and no capacity beyond it: nobody can append into
	// the cached bytes.
	buf := append(make([]byte, 0, len(enc)), enc...)
	*scratch = enc
	encodePool.Put(scratch)
	atomic.StorePointer(&s.json, unsafe.Pointer(&buf))
	return buf, nil
}

// encodePool holds encodeAndCache's scratch buffers.
var encodePool = sync.Pool{New: func() any {
	b := make([]byte, 0, jsonSizeHint)
	return &b
}}

// appendFields appends the 16 order fields, the first preceded by sep.
// The numbers must have passed checkNumbers.
func (o *Order) appendFields(b []byte, sep byte) []byte {
	b = append(b, sep, '"')
	b = append(b, fieldChainID...)
	b = append(b, '"', ':')
	b = appendUint256(b, o.ChainID)
	b = appendAddressField(b, fieldExchangeAddress, o.ExchangeAddress)
	b = appendAddressField(b, fieldMakerAddress, o.MakerAddress)
	b = appendBytesField(b, ',', fieldMakerAssetData, o.MakerAssetData)
	b = appendBytesField(b, ',', fieldMakerFeeAssetData, o.MakerFeeAssetData)
	b = appendNumberField(b, fieldMakerAssetAmount, o.MakerAssetAmount)
	b = appendNumberField(b, fieldMakerFee, o.MakerFee)
	b = appendAddressField(b, fieldTakerAddress, o.TakerAddress)
	b = appendBytesField(b, ',', fieldTakerAssetData, o.TakerAssetData)
	b = appendBytesField(b, ',', fieldTakerFeeAssetData, o.TakerFeeAssetData)
	b = appendNumberField(b, fieldTakerAssetAmount, o.TakerAssetAmount)
	b = appendNumberField(b, fieldTakerFee, o.TakerFee)
	b = appendAddressField(b, fieldSenderAddress, o.SenderAddress)
	b = appendAddressField(b, fieldFeeRecipientAddress, o.FeeRecipientAddress)
	b = appendNumberField(b, fieldExpirationTimeSeconds, o.ExpirationTimeSeconds)
	b = appendNumberField(b, fieldSalt, o.Salt)
	return b
}

// appendKey appends `,"name":`.
func appendKey(b []byte, sep byte, name string) []byte {
	b = append(b, sep, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// appendAddressField appends `,"name":"0x<40 lowercase hex>"`.
func appendAddressField(b []byte, name string, a common.Address) []byte {
	b = appendKey(b, ',', name)
	b = append(b, '"', '0', 'x')
	b = appendHex(b, a[:])
	return append(b, '"')
}

// appendBytesField appends `<sep>"name":"0x<lowercase hex>"`; empty bytes are "0x".
func appendBytesField(b []byte, sep byte, name string, v []byte) []byte {
	b = appendKey(b, sep, name)
	b = append(b, '"', '0', 'x')
	b = appendHex(b, v)
	return append(b, '"')
}

// appendNumberField appends `,"name":"<decimal>"`.
func appendNumberField(b []byte, name string, n *big.Int) []byte {
	b = appendKey(b, ',', name)
	b = append(b, '"')
	b = appendUint256(b, n)
	return append(b, '"')
}

// appendHex appends v as lowercase hex, without prefix.
func appendHex(b []byte, v []byte) []byte {
	n := len(b)
	b = slices.Grow(b, 2*len(v))[:n+2*len(v)]
	hex.Encode(b[n:], v)
	return b
}
