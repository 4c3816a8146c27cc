// Package ordergen makes deterministic, realistic signed 0x v3 orders for
// tests, the demo and benchmarks.
//
// Order i of a seed is a pure function of (seed, i, options): the same call
// gives the same orders, with the same hashes, in any process. That makes
// overlapping sets easy: Generate with First set to k yields orders
// k, k+1, ... of the same stream, and Overlapping builds two sets that share
// a known number of orders.
//
// Orders look like real ERC-20 orders: ERC-20 proxy asset data for two
// distinct tokens, amounts in token base units, zero fees with empty fee
// asset data, an open taker, an expiration far in the future and a random
// 256-bit salt. They are signed by one of Makers maker keys (see MakerKey),
// as EthSign signatures unless Options.SignatureType says otherwise.
package ordergen

import (
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"runtime"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ordersync/ordersync/zeroex"
)

// Defaults of Options.
const (
	// DefaultChainID is the chain ID of 0x's Ganache snapshot, which 0x Mesh
	// test setups use.
	DefaultChainID = 1337
	// DefaultMakers is how many maker keys sign the orders.
	DefaultMakers = 10
	// DefaultExpirationTimeSeconds is the earliest expiration of a generated
	// order: 2100-01-01 UTC. It is fixed, not relative to now, so that
	// orders (and hashes) do not depend on when they were made.
	DefaultExpirationTimeSeconds = 4102444800
)

// DefaultExchange is the 0x v3 Exchange of DefaultChainID.
var DefaultExchange = mustExchange(DefaultChainID)

func mustExchange(chainID int) common.Address {
	a, err := zeroex.ExchangeAddress(chainID)
	if err != nil {
		panic(err)
	}
	return a
}

// Options say which orders to generate. The zero value of each field picks
// its default.
type Options struct {
	// Seed selects the order stream and the maker keys.
	Seed int64
	// Count is how many orders to generate.
	Count int
	// First is the index in the stream of the first order generated.
	First int
	// Makers is how many distinct maker keys sign the orders; default
	// DefaultMakers. Key j is MakerKey(Seed, j).
	Makers int
	// ChainID is the orders' chain ID; default DefaultChainID.
	ChainID int64
	// Exchange is the orders' exchange address; default the 0x v3
	// Exchange of ChainID (zeroex.ExchangeAddress), which must then be a
	// chain it knows.
	Exchange common.Address
	// ExpirationTimeSeconds is the earliest expiration; orders expire up to
	// 30 days later. Default DefaultExpirationTimeSeconds.
	ExpirationTimeSeconds int64
	// ExactExpiration makes every order expire at ExpirationTimeSeconds
	// itself, for orders meant to expire during a run (gen --expires-in).
	// The other fields stay those of the same stream without it.
	ExactExpiration bool
	// SignatureType is zeroex.SignatureTypeEthSign (the default when zero)
	// or zeroex.SignatureTypeEIP712.
	SignatureType zeroex.SignatureType
}

// withDefaults returns opts with every zero field set to its default.
func (opts Options) withDefaults() Options {
	if opts.Makers <= 0 {
		opts.Makers = DefaultMakers
	}
	if opts.ChainID == 0 {
		opts.ChainID = DefaultChainID
	}
	if opts.Exchange == (common.Address{}) {
		opts.Exchange = mustExchange(int(opts.ChainID))
	}
	if opts.ExpirationTimeSeconds == 0 {
		opts.ExpirationTimeSeconds = DefaultExpirationTimeSeconds
	}
	if opts.SignatureType == 0 {
		opts.SignatureType = zeroex.SignatureTypeEthSign
	}
	if opts.Count < 0 {
		opts.Count = 0
	}
	return opts
}

// Generate returns opts.Count signed orders: orders opts.First,
// opts.First+1, ... of the stream of opts.Seed. Signing runs on all cores.
// It panics only on options no caller means (a SignatureType other than
// EthSign or EIP712, a chain without a known Exchange and no Exchange), as
// test helpers do.
func Generate(opts Options) []*zeroex.SignedOrder {
	opts = opts.withDefaults()
	if opts.SignatureType != zeroex.SignatureTypeEthSign && opts.SignatureType != zeroex.SignatureTypeEIP712 {
		panic(fmt.Sprintf("ordergen: signature type %d: want EthSign (3) or EIP712 (2)", opts.SignatureType))
	}
	g := newGenerator(opts)
	out := make([]*zeroex.SignedOrder, opts.Count)

	// Contiguous chunks, one goroutine per core: each order depends only on
	// its index, so the chunks need no coordination.
	workers := max(1, min(runtime.GOMAXPROCS(0), opts.Count/64))
	chunk := (opts.Count + workers - 1) / workers
	var wg sync.WaitGroup
	for start := 0; start < opts.Count; start += chunk {
		end := min(start+chunk, opts.Count)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := start; i < end; i++ {
				out[i] = g.signed(opts.First + i)
			}
		}()
	}
	wg.Wait()
	return out
}

// Overlapping returns two sets of count orders each, from the stream of
// opts.Seed, that have exactly shared orders in common (0 <= shared <=
// count): a is orders [0, count) and b is orders [count-shared,
// 2*count-shared). A shared order is a separate SignedOrder in each set,
// but the two share field values (big.Ints, byte slices): treat them as
// immutable. opts.Count and opts.First are ignored.
func Overlapping(opts Options, count, shared int) (a, b []*zeroex.SignedOrder) {
	shared = max(0, min(shared, count))
	opts.First, opts.Count = 0, count
	a = Generate(opts)
	opts.First, opts.Count = count, count-shared
	fresh := Generate(opts)
	b = make([]*zeroex.SignedOrder, 0, count)
	for _, o := range a[count-shared:] {
		c := &zeroex.SignedOrder{Order: o.Order, Signature: o.Signature}
		b = append(b, c)
	}
	return a, append(b, fresh...)
}

// MakerKey returns maker key i of seed: the key that signs the orders of
// maker i in Generate(Options{Seed: seed}). Use it to sign extra orders.
func MakerKey(seed int64, i int) *ecdsa.PrivateKey {
	var buf [8 + 8 + 8 + len("ordergen maker")]byte
	copy(buf[24:], "ordergen maker")
	binary.BigEndian.PutUint64(buf[0:], uint64(seed))
	binary.BigEndian.PutUint64(buf[8:], uint64(i))
	for attempt := uint64(0); ; attempt++ {
		binary.BigEndian.PutUint64(buf[16:], attempt)
		// A keccak output is a valid key unless it is 0 or at least the
		// curve order, which is too unlikely to ever loop more than once.
		if key, err := crypto.ToECDSA(crypto.Keccak256(buf[:])); err == nil {
			return key
		}
	}
}

// MakerAddress returns the address of MakerKey(seed, i).
func MakerAddress(seed int64, i int) common.Address {
	return crypto.PubkeyToAddress(MakerKey(seed, i).PublicKey)
}

// ERC20AssetData returns the 0x v3 asset data of an ERC-20 token: the
// ERC20Token proxy ID 0xf47261b0 and the token address, left-padded to 32
// bytes (36 bytes in all).
func ERC20AssetData(token common.Address) []byte {
	data := make([]byte, 4+32)
	copy(data, erc20ProxyID[:])
	copy(data[4+12:], token[:])
	return data
}

var erc20ProxyID = [4]byte{0xf4, 0x72, 0x61, 0xb0}

// Tokens are the ERC-20 token addresses generated orders trade: fixed,
// made-up addresses, so that orders of any seed trade the same tokens.
var Tokens = func() []common.Address {
	tokens := make([]common.Address, 8)
	for i := range tokens {
		tokens[i] = common.BytesToAddress(crypto.Keccak256([]byte(fmt.Sprintf("ordergen token %d", i)))[12:])
	}
	return tokens
}()

// feeRecipients are the relayers that generated orders name; the zero
// address (no relayer) is among them.
var feeRecipients = []common.Address{
	{},
	common.BytesToAddress(crypto.Keccak256([]byte("ordergen relayer 1"))[12:]),
	common.BytesToAddress(crypto.Keccak256([]byte("ordergen relayer 2"))[12:]),
}

// generator holds what all orders of one Generate call share.
type generator struct {
	opts   Options
	keys   []*ecdsa.PrivateKey
	makers []common.Address
	chain  *big.Int
}

func newGenerator(opts Options) *generator {
	g := &generator{opts: opts, chain: big.NewInt(opts.ChainID)}
	for i := 0; i < opts.Makers; i++ {
		key := MakerKey(opts.Seed, i)
		g.keys = append(g.keys, key)
		g.makers = append(g.makers, crypto.PubkeyToAddress(key.PublicKey))
	}
	return g
}

// signed generates and signs order i of the stream.
func (g *generator) signed(i int) *zeroex.SignedOrder {
	// PCG seeds cheaply, so every order gets its own source and depends on
	// its index alone.
	r := mrand.New(mrand.NewPCG(uint64(g.opts.Seed), uint64(i)))
	maker := r.IntN(len(g.keys))
	makerToken := r.IntN(len(Tokens))
	takerToken := (makerToken + 1 + r.IntN(len(Tokens)-1)) % len(Tokens)

	var salt [32]byte
	for k := 0; k < 4; k++ {
		binary.BigEndian.PutUint64(salt[8*k:], r.Uint64())
	}
	o := &zeroex.Order{
		// Each order has its own ChainID, so that a caller changing one
		// order's field cannot change another's.
		ChainID:               new(big.Int).Set(g.chain),
		ExchangeAddress:       g.opts.Exchange,
		MakerAddress:          g.makers[maker],
		MakerAssetData:        ERC20AssetData(Tokens[makerToken]),
		MakerFeeAssetData:     []byte{},
		MakerAssetAmount:      tokenAmount(r),
		MakerFee:              new(big.Int),
		TakerAddress:          common.Address{},
		TakerAssetData:        ERC20AssetData(Tokens[takerToken]),
		TakerFeeAssetData:     []byte{},
		TakerAssetAmount:      tokenAmount(r),
		TakerFee:              new(big.Int),
		SenderAddress:         common.Address{},
		FeeRecipientAddress:   feeRecipients[r.IntN(len(feeRecipients))],
		ExpirationTimeSeconds: big.NewInt(g.opts.ExpirationTimeSeconds + g.spread(r.Int64N(30*24*3600))),
		Salt:                  new(big.Int).SetBytes(salt[:]),
	}
	var s *zeroex.SignedOrder
	var err error
	if g.opts.SignatureType == zeroex.SignatureTypeEIP712 {
		s, err = zeroex.SignOrderEIP712(g.keys[maker], o)
	} else {
		s, err = zeroex.SignOrder(g.keys[maker], o)
	}
	if err != nil {
		// Every field above is in range; only a broken build gets here.
		panic(fmt.Sprintf("ordergen: signing order %d: %v", i, err))
	}
	return s
}

// tokenAmount returns an amount in base units of a token with 6 or 18
// decimals: 1 to 1 000 000 whole tokens, with some fractional part.
func tokenAmount(r *mrand.Rand) *big.Int {
	decimals := int64(18)
	if r.IntN(4) == 0 {
		decimals = 6
	}
	whole := big.NewInt(1 + r.Int64N(1_000_000))
	unit := new(big.Int).Exp(big.NewInt(10), big.NewInt(decimals-3), nil)
	milli := big.NewInt(r.Int64N(1000))
	whole.Mul(whole, big.NewInt(1000)).Add(whole, milli)
	return whole.Mul(whole, unit)
}

// spread is how long after ExpirationTimeSeconds an order expires, given
// the stream's draw: the draw itself, or 0 with ExactExpiration. The draw
// is always made, so that the orders' other fields do not depend on it.
func (g *generator) spread(draw int64) int64 {
	if g.opts.ExactExpiration {
		return 0
	}
	return draw
}
