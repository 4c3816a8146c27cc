package zeroex

import (
	"errors"
	"runtime"
	"sync"
)

// minOrdersPerWorker keeps tiny batches on one goroutine, where starting
// workers would cost more than it saves.
const minOrdersPerWorker = 16

// errNilOrder is VerifySignatures' result for a nil entry.
var errNilOrder = errors.New("zeroex: nil order")

// VerifySignatures verifies the signatures of orders (hash included) on all
// cores, and returns one result per order in input order: nil for a good
// order, otherwise what VerifySignature returns. It splits orders into
// GOMAXPROCS contiguous chunks, one goroutine each.
func VerifySignatures(orders []*SignedOrder) []error {
	errs := make([]error, len(orders))
	workers := min(runtime.GOMAXPROCS(0), (len(orders)+minOrdersPerWorker-1)/minOrdersPerWorker)
	if workers <= 1 {
		verifyRange(orders, errs)
		return errs
	}
	chunk := (len(orders) + workers - 1) / workers
	var wg sync.WaitGroup
	for start := 0; start < len(orders); start += chunk {
		end := min(start+chunk, len(orders))
		wg.Add(1)
		go func() {
			defer wg.Done()
			verifyRange(orders[start:end], errs[start:end])
		}()
	}
	wg.Wait()
	return errs
}

func verifyRange(orders []*SignedOrder, errs []error) {
	for i, o := range orders {
		if o == nil {
			errs[i] = errNilOrder
			continue
		}
		errs[i] = o.VerifySignature()
	}
}
