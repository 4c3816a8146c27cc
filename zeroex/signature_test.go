package zeroex

import (
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"
)

func TestSignAndVerify(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	key := testKey(t, 1)
	for _, sign := range []struct {
		name string
		fn   func() (*SignedOrder, error)
		typ  SignatureType
	}{
		{"EthSign", func() (*SignedOrder, error) {
			o := randomOrder(r)
			o.MakerAddress = crypto.PubkeyToAddress(key.PublicKey)
			return SignOrder(key, o)
		}, SignatureTypeEthSign},
		{"EIP712", func() (*SignedOrder, error) {
			o := randomOrder(r)
			o.MakerAddress = crypto.PubkeyToAddress(key.PublicKey)
			return SignOrderEIP712(key, o)
		}, SignatureTypeEIP712},
	} {
		t.Run(sign.name, func(t *testing.T) {
			for i := 0; i < 20; i++ {
				s, err := sign.fn()
				if err != nil {
					t.Fatal(err)
				}
				if len(s.Signature) != ECSignatureLength || SignatureType(s.Signature[65]) != sign.typ {
					t.Fatalf("signature %x: want %d bytes of type %d", s.Signature, ECSignatureLength, sign.typ)
				}
				if v := s.Signature[0]; v != 27 && v != 28 {
					t.Fatalf("v = %d", v)
				}
				if err := s.VerifySignature(); err != nil {
					t.Fatalf("good signature: %v", err)
				}
				// Cross-check with go-ethereum's own digests.
				h, _ := s.ComputeOrderHash()
				digest := h[:]
				if sign.typ == SignatureTypeEthSign {
					digest = accounts.TextHash(h[:])
				}
				rsv := append(append([]byte(nil), s.Signature[1:65]...), s.Signature[0]-27)
				pub, err := crypto.SigToPub(digest, rsv)
				if err != nil || crypto.PubkeyToAddress(*pub) != s.MakerAddress {
					t.Fatalf("go-ethereum does not recover the maker: %v", err)
				}
				// Any change to the order breaks the signature.
				s.Salt.Add(s.Salt, bigOne)
				s.ResetHash()
				if err := s.VerifySignature(); !errors.Is(err, ErrWrongSigner) && !errors.Is(err, ErrMalformedSignature) {
					t.Fatalf("changed order: %v, want ErrWrongSigner", err)
				}
			}
		})
	}
}

func TestVerifySignatureErrors(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	key, other := testKey(t, 1), testKey(t, 2)
	good := signedTestOrder(t, r, key)
	withSig := func(edit func(sig []byte) []byte) *SignedOrder {
		s := &SignedOrder{Order: good.Order, Signature: edit(append([]byte(nil), good.Signature...))}
		return s
	}
	curveN := crypto.S256().Params().N
	for _, tc := range []struct {
		name string
		s    *SignedOrder
		want error
		msg  string
	}{
		{"empty", withSig(func([]byte) []byte { return nil }), ErrBadSignatureLength, ""},
		{"short", withSig(func(b []byte) []byte { return b[1:] }), ErrBadSignatureLength, "65 bytes"},
		{"long", withSig(func(b []byte) []byte { return append([]byte{0}, b...) }), ErrBadSignatureLength, "67 bytes"},
		{"wallet", withSig(func([]byte) []byte { return []byte{4} }), ErrUnverifiableSignature, "type 4"},
		{"validator", withSig(func(b []byte) []byte { return append(b[:20], 5) }), ErrUnverifiableSignature, ""},
		{"presigned", withSig(func([]byte) []byte { return []byte{6} }), ErrUnverifiableSignature, ""},
		{"eip1271", withSig(func(b []byte) []byte { b[65] = 7; return b }), ErrUnverifiableSignature, ""},
		{"illegal", withSig(func(b []byte) []byte { b[65] = 0; return b }), ErrUnknownSignatureType, "type 0"},
		{"invalid", withSig(func(b []byte) []byte { b[65] = 1; return b }), ErrUnknownSignatureType, ""},
		{"type 8", withSig(func(b []byte) []byte { b[65] = 8; return b }), ErrUnknownSignatureType, ""},
		{"v 0", withSig(func(b []byte) []byte { b[0] = 0; return b }), ErrMalformedSignature, "v is 0"},
		{"v 29", withSig(func(b []byte) []byte { b[0] = 29; return b }), ErrMalformedSignature, ""},
		{"r zero", withSig(func(b []byte) []byte { clear(b[1:33]); return b }), ErrMalformedSignature, ""},
		{"s = n", withSig(func(b []byte) []byte { curveN.FillBytes(b[33:65]); return b }), ErrMalformedSignature, ""},
		{"r all ones", withSig(func(b []byte) []byte {
			for i := 1; i < 33; i++ {
				b[i] = 0xff
			}
			return b
		}), ErrMalformedSignature, ""},
		{"EthSign as EIP712", withSig(func(b []byte) []byte { b[65] = 2; return b }), ErrWrongSigner, ""},
		{"other signer", func() *SignedOrder {
			s, err := SignOrder(other, &good.Order)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}(), ErrWrongSigner, "signed by " + strings.ToLower(crypto.PubkeyToAddress(other.PublicKey).Hex())},
	} {
		err := tc.s.VerifySignature()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		} else if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %q does not say %q", tc.name, err, tc.msg)
		}
	}
	// High s (the other valid signature of the same message) is accepted,
	// as the exchange contract's ecrecover accepts it.
	high := withSig(func(b []byte) []byte {
		sv := new(bigInt).SetBytes(b[33:65])
		sv.Sub(curveN, sv).FillBytes(b[33:65])
		b[0] ^= 27 ^ 28
		return b
	})
	if err := high.VerifySignature(); err != nil {
		t.Errorf("high-s signature: %v", err)
	}
}

func TestVerifySignaturesBatch(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	key := testKey(t, 1)
	orders := make([]*SignedOrder, 200)
	for i := range orders {
		orders[i] = signedTestOrder(t, r, key)
		if i%7 == 3 {
			orders[i].Signature[10] ^= 1 // a different r: wrong signer or no key
		}
	}
	orders[50] = nil
	errs := VerifySignatures(orders)
	if len(errs) != len(orders) {
		t.Fatalf("%d results for %d orders", len(errs), len(orders))
	}
	for i, err := range errs {
		switch {
		case i == 50:
			if err == nil {
				t.Errorf("nil order %d: no error", i)
			}
		case i%7 == 3:
			if !errors.Is(err, ErrWrongSigner) && !errors.Is(err, ErrMalformedSignature) {
				t.Errorf("bad order %d: %v", i, err)
			}
		case err != nil:
			t.Errorf("good order %d: %v", i, err)
		}
	}
	if errs := VerifySignatures(nil); len(errs) != 0 {
		t.Errorf("VerifySignatures(nil) = %v", errs)
	}
}

// A good signature is remembered, but only for the signature that was
// checked: a new one, or the same one changed and ResetHash called, is
// checked afresh.
func TestVerifySignatureRemembered(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	s := signedTestOrder(t, r, testKey(t, 1))
	for i := 0; i < 2; i++ {
		if err := s.VerifySignature(); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	good := s.Signature
	bad := append([]byte(nil), good...)
	bad[5] ^= 1
	s.Signature = bad
	if err := s.VerifySignature(); err == nil {
		t.Fatal("another signature: accepted as the one checked before")
	}
	s.Signature = good
	if err := s.VerifySignature(); err != nil {
		t.Fatalf("the good signature again: %v", err)
	}
	good[5] ^= 1
	s.ResetHash()
	if err := s.VerifySignature(); err == nil {
		t.Fatal("changed in place and ResetHash called: accepted")
	}
}
