package zeroex

import (
	"math/big"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The EIP-712 type strings of 0x v3.
const (
	orderTypeString  = "Order(address makerAddress,address takerAddress,address feeRecipientAddress,address senderAddress,uint256 makerAssetAmount,uint256 takerAssetAmount,uint256 makerFee,uint256 takerFee,uint256 expirationTimeSeconds,uint256 salt,bytes makerAssetData,bytes takerAssetData,bytes makerFeeAssetData,bytes takerFeeAssetData)"
	domainTypeString = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
	domainName       = "0x Protocol"
	domainVersion    = "3.0.0"
)

var (
	orderTypeHash     = crypto.Keccak256Hash([]byte(orderTypeString))
	domainTypeHash    = crypto.Keccak256Hash([]byte(domainTypeString))
	domainNameHash    = crypto.Keccak256Hash([]byte(domainName))
	domainVersionHash = crypto.Keccak256Hash([]byte(domainVersion))
)

// ComputeOrderHash returns the order's EIP-712 hash, the key by which nodes
// store, page through and sign orders. The hash is cached on the order (see
// ResetHash). It fails when a numeric field is nil, negative or above
// 2^256-1.
func (o *Order) ComputeOrderHash() (common.Hash, error) {
	if h, ok := o.cachedHash(); ok {
		return h, nil
	}
	h, err := o.computeHash()
	if err != nil {
		return common.Hash{}, err
	}
	cached := h
	atomic.StorePointer(&o.hash, unsafe.Pointer(&cached))
	return h, nil
}

// orderHasher is the scratch space of one hash computation. Pooled, so
// that neither the Keccak state nor the buffers (which escape through the
// state's interface methods) are garbage per order.
type orderHasher struct {
	st     crypto.KeccakState
	enc    [orderStructSize]byte
	digest [2 + 32 + 32]byte
	out    common.Hash
}

var hasherPool = sync.Pool{New: func() any { return &orderHasher{st: crypto.NewKeccakState()} }}

// keccakInto writes keccak256(data) into out, using st.
func keccakInto(st crypto.KeccakState, out []byte, data []byte) {
	st.Reset()
	st.Write(data)
	st.Read(out[:32])
}

// orderStructSize is the size of the encoded Order struct: its type hash
// and 14 words.
const orderStructSize = 15 * 32

// computeHash computes the hash, uncached.
func (o *Order) computeHash() (common.Hash, error) {
	if err := o.checkNumbers(); err != nil {
		return common.Hash{}, err
	}
	domain := domainSeparator(o.ChainID, o.ExchangeAddress)
	hs := hasherPool.Get().(*orderHasher)
	defer hasherPool.Put(hs)
	st := hs.st

	// Words in the order of the type string; bytes become their hash.
	enc := &hs.enc
	clear(enc[:])
	copy(enc[0:], orderTypeHash[:])
	copy(enc[1*32+12:], o.MakerAddress[:])
	copy(enc[2*32+12:], o.TakerAddress[:])
	copy(enc[3*32+12:], o.FeeRecipientAddress[:])
	copy(enc[4*32+12:], o.SenderAddress[:])
	o.MakerAssetAmount.FillBytes(enc[5*32 : 6*32])
	o.TakerAssetAmount.FillBytes(enc[6*32 : 7*32])
	o.MakerFee.FillBytes(enc[7*32 : 8*32])
	o.TakerFee.FillBytes(enc[8*32 : 9*32])
	o.ExpirationTimeSeconds.FillBytes(enc[9*32 : 10*32])
	o.Salt.FillBytes(enc[10*32 : 11*32])
	keccakInto(st, enc[11*32:], o.MakerAssetData)
	keccakInto(st, enc[12*32:], o.TakerAssetData)
	keccakInto(st, enc[13*32:], o.MakerFeeAssetData)
	keccakInto(st, enc[14*32:], o.TakerFeeAssetData)

	// keccak256(0x19 0x01 || domain separator || struct hash)
	digest := &hs.digest
	digest[0], digest[1] = 0x19, 0x01
	copy(digest[2:], domain[:])
	keccakInto(st, digest[34:], enc[:])
	keccakInto(st, hs.out[:], digest[:])
	return hs.out, nil
}

// domainKey identifies an EIP-712 domain of 0x v3.
type domainKey struct {
	chainID  [32]byte
	exchange common.Address
}

// maxDomains bounds the domain separator cache. A node sees one or two
// domains; a hostile peer could send orders for many, so on overflow the
// cache starts afresh rather than growing.
const maxDomains = 32

var domainCache = struct {
	sync.RWMutex
	m map[domainKey]common.Hash
}{m: make(map[domainKey]common.Hash)}

// domainSeparator returns the EIP-712 domain separator of 0x v3 for the
// chain and exchange. chainID must fit a uint256.
func domainSeparator(chainID *big.Int, exchange common.Address) common.Hash {
	var k domainKey
	chainID.FillBytes(k.chainID[:])
	k.exchange = exchange

	domainCache.RLock()
	h, ok := domainCache.m[k]
	domainCache.RUnlock()
	if ok {
		return h
	}

	var enc [5 * 32]byte
	copy(enc[0:], domainTypeHash[:])
	copy(enc[32:], domainNameHash[:])
	copy(enc[64:], domainVersionHash[:])
	copy(enc[96:], k.chainID[:])
	copy(enc[128+12:], exchange[:])
	h = crypto.Keccak256Hash(enc[:])

	domainCache.Lock()
	if len(domainCache.m) >= maxDomains {
		clear(domainCache.m)
	}
	domainCache.m[k] = h
	domainCache.Unlock()
	return h
}
