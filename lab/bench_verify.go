package main

import (
	"fmt"
	"time"

	"github.com/ordersync/ordersync/zeroex"
)

// freshCopies returns the orders decoded anew from their JSON: equal
// orders with no cached hash or encoding, as a requester gets them off a
// stream.
func freshCopies(orders []*zeroex.SignedOrder) ([]*zeroex.SignedOrder, error) {
	out := make([]*zeroex.SignedOrder, len(orders))
	var buf []byte
	for i, o := range orders {
		var err error
		buf, err = o.AppendJSON(buf[:0])
		if err != nil {
			return nil, fmt.Errorf("order %d: encode: %w", i, err)
		}
		out[i] = new(zeroex.SignedOrder)
		if err := out[i].UnmarshalJSON(buf); err != nil {
			return nil, fmt.Errorf("order %d: decode: %w", i, err)
		}
	}
	return out, nil
}

// measureVerify times zeroex.VerifySignatures (hash and signature, on all
// cores) over fresh orders, and fails if any order does not verify: they
// are all validly signed.
func measureVerify(fresh []*zeroex.SignedOrder) (time.Duration, error) {
	start := time.Now()
	errs := zeroex.VerifySignatures(fresh)
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil {
			return 0, fmt.Errorf("verifying generated order %d: %w", i, err)
		}
	}
	return elapsed, nil
}
