package zeroex

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// SignatureType is the last byte of a 0x v3 signature.
type SignatureType byte

// The 0x v3 signature types. Only EIP712 and EthSign can be checked without
// a chain.
const (
	SignatureTypeIllegal   SignatureType = 0
	SignatureTypeInvalid   SignatureType = 1
	SignatureTypeEIP712    SignatureType = 2
	SignatureTypeEthSign   SignatureType = 3
	SignatureTypeWallet    SignatureType = 4
	SignatureTypeValidator SignatureType = 5
	SignatureTypePreSigned SignatureType = 6
	SignatureTypeEIP1271   SignatureType = 7
)

// ECSignatureLength is the length of an EIP712 or EthSign signature:
// v (1 byte) || r (32) || s (32) || type (1).
const ECSignatureLength = 66

// Errors of VerifySignature; test for them with errors.Is, as the returned
// errors wrap them with details.
var (
	// ErrUnverifiableSignature means the signature type (wallet,
	// validator, pre-signed, EIP-1271) needs a chain to check. Such an
	// order may be valid, but this package cannot tell.
	ErrUnverifiableSignature = errors.New("zeroex: signature type needs a chain to verify")
	// ErrBadSignatureLength means the signature is empty, or an EIP712 or
	// EthSign signature is not ECSignatureLength bytes.
	ErrBadSignatureLength = errors.New("zeroex: bad signature length")
	// ErrUnknownSignatureType means the last byte is not a signature type
	// that can ever be valid (Illegal, Invalid, or 8 and above).
	ErrUnknownSignatureType = errors.New("zeroex: unknown signature type")
	// ErrWrongSigner means the signature is well formed, but by someone
	// other than the maker (or over other data). The error that wraps it
	// names both addresses.
	ErrWrongSigner = errors.New("zeroex: signer is not the maker")
	// ErrMalformedSignature means v is not 27 or 28, r or s is not in
	// [1, n-1] for the secp256k1 order n, or no public key can be
	// recovered.
	ErrMalformedSignature = errors.New("zeroex: malformed signature")
)

// ethSignPrefix is what EthSign signatures prepend to the order hash.
const ethSignPrefix = "\x19Ethereum Signed Message:\n32"

// ethSignDigest is the digest an EthSign signature signs.
func ethSignDigest(orderHash common.Hash) common.Hash {
	var msg [len(ethSignPrefix) + 32]byte
	copy(msg[:], ethSignPrefix)
	copy(msg[len(ethSignPrefix):], orderHash[:])
	return crypto.Keccak256Hash(msg[:])
}

// SignOrder signs the order with key as an EthSign signature (type 3), the
// kind most 0x tooling makes, and returns the signed order: a copy of
// *order (sharing its big.Ints and byte slices) with the signature. The
// order's MakerAddress should be key's address, or the signature will not
// verify. It fails when ComputeOrderHash does.
func SignOrder(key *ecdsa.PrivateKey, order *Order) (*SignedOrder, error) {
	return sign(key, order, SignatureTypeEthSign)
}

// SignOrderEIP712 signs the order with key as an EIP-712 signature (type 2)
// over the order hash itself, and returns the signed order.
func SignOrderEIP712(key *ecdsa.PrivateKey, order *Order) (*SignedOrder, error) {
	return sign(key, order, SignatureTypeEIP712)
}

func sign(key *ecdsa.PrivateKey, order *Order, typ SignatureType) (*SignedOrder, error) {
	if key == nil || order == nil {
		return nil, errors.New("zeroex: sign: nil key or order")
	}
	h, err := order.ComputeOrderHash()
	if err != nil {
		return nil, err
	}
	digest := h
	if typ == SignatureTypeEthSign {
		digest = ethSignDigest(h)
	}
	rsv, err := crypto.Sign(digest[:], key)
	if err != nil {
		return nil, fmt.Errorf("zeroex: sign: %w", err)
	}
	sig := make([]byte, ECSignatureLength)
	sig[0] = rsv[64] + 27
	copy(sig[1:65], rsv[:64])
	sig[65] = byte(typ)
	return &SignedOrder{Order: *order, Signature: sig}, nil
}

// VerifySignature checks that Signature is a well-formed EIP712 or EthSign
// signature by MakerAddress over the order hash. It returns nil only then;
// otherwise an error that wraps one of ErrUnverifiableSignature,
// ErrBadSignatureLength, ErrUnknownSignatureType, ErrWrongSigner or
// ErrMalformedSignature, or an error from ComputeOrderHash.
//
// A good signature is remembered on the order, like its hash: checking it
// again costs a comparison, until ResetHash.
func (s *SignedOrder) VerifySignature() error {
	typ, err := s.checkSignatureForm()
	if err != nil {
		return err
	}
	// The form check fixed the length, so the same first byte is the same
	// signature (changing it in place without ResetHash breaks the
	// package's rule, as for the hash).
	sig := unsafe.Pointer(unsafe.SliceData(s.Signature))
	if atomic.LoadPointer(&s.verified) == sig {
		return nil
	}
	if err := s.recoverSigner(typ); err != nil {
		return err
	}
	atomic.StorePointer(&s.verified, sig)
	return nil
}

// recoverSigner is VerifySignature's costly part: the signer recovered
// from a signature of a good form, compared with the maker.
func (s *SignedOrder) recoverSigner(typ SignatureType) error {
	h, err := s.ComputeOrderHash()
	if err != nil {
		return err
	}
	// Pooled scratch space: the buffers would escape through the Keccak
	// state's interface and be garbage per order.
	hs := hasherPool.Get().(*orderHasher)
	defer hasherPool.Put(hs)
	digest := hs.out[:]
	copy(digest, h[:])
	if typ == SignatureTypeEthSign {
		msg := hs.enc[:len(ethSignPrefix)+32]
		copy(msg, ethSignPrefix)
		copy(msg[len(ethSignPrefix):], h[:])
		keccakInto(hs.st, digest, msg)
	}
	// Ecrecover wants r || s || v with v in {0, 1}.
	rsv := hs.digest[:65]
	copy(rsv[:64], s.Signature[1:65])
	rsv[64] = s.Signature[0] - 27
	pub, err := crypto.Ecrecover(digest, rsv)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedSignature, err)
	}
	// The signer's address is the last 20 bytes of keccak256(X || Y).
	keccakInto(hs.st, hs.out[:], pub[1:])
	if signer := common.BytesToAddress(hs.out[12:]); signer != s.MakerAddress {
		return fmt.Errorf("%w: signed by %s, maker is %s", ErrWrongSigner,
			hexAddress(signer), hexAddress(s.MakerAddress))
	}
	return nil
}

// checkSignatureForm checks the signature's type, length, v, r and s, all
// without hashing.
func (s *SignedOrder) checkSignatureForm() (SignatureType, error) {
	sig := s.Signature
	if len(sig) == 0 {
		return 0, fmt.Errorf("%w: empty", ErrBadSignatureLength)
	}
	typ := SignatureType(sig[len(sig)-1])
	switch typ {
	case SignatureTypeEIP712, SignatureTypeEthSign:
	case SignatureTypeWallet, SignatureTypeValidator, SignatureTypePreSigned, SignatureTypeEIP1271:
		return typ, fmt.Errorf("%w: type %d", ErrUnverifiableSignature, typ)
	default:
		return typ, fmt.Errorf("%w: type %d", ErrUnknownSignatureType, typ)
	}
	if len(sig) != ECSignatureLength {
		return typ, fmt.Errorf("%w: %d bytes, want %d", ErrBadSignatureLength, len(sig), ECSignatureLength)
	}
	v := sig[0]
	if v != 27 && v != 28 {
		return typ, fmt.Errorf("%w: v is %d, want 27 or 28", ErrMalformedSignature, v)
	}
	// The exchange contract's ecrecover accepts any s below the curve order
	// (not only the lower half), so we do too.
	var r, sv [32]byte
	copy(r[:], sig[1:33])
	copy(sv[:], sig[33:65])
	if !inCurveRange(r) || !inCurveRange(sv) {
		return typ, fmt.Errorf("%w: r or s out of range", ErrMalformedSignature)
	}
	return typ, nil
}

// curveOrder is the order of secp256k1, big-endian.
var curveOrder = func() (n [32]byte) {
	crypto.S256().Params().N.FillBytes(n[:])
	return n
}()

// inCurveRange reports whether 0 < x < the secp256k1 order.
func inCurveRange(x [32]byte) bool {
	return x != [32]byte{} && string(x[:]) < string(curveOrder[:])
}

// hexAddress is a's lowercase hex form, as the wire writes it.
func hexAddress(a common.Address) string {
	return "0x" + string(appendHex(nil, a[:]))
}
