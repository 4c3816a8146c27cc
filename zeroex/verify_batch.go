package zeroex

import (
	"errors"

	"github.com/ordersync/ordersync/internal/parallel"
)

// minOrdersPerWorker keeps tiny batches on one goroutine, where starting
// workers would cost more than it saves.
const minOrdersPerWorker = 16

// errNilOrder is VerifySignatures' result for a nil entry.
var errNilOrder = errors.New("zeroex: nil order")

// VerifySignatures verifies the signatures of orders (hash included) on all
// cores, and returns one result per order in input order: nil for a good
// order, otherwise what VerifySignature returns.
func VerifySignatures(orders []*SignedOrder) []error {
	errs := make([]error, len(orders))
	parallel.For(len(orders), minOrdersPerWorker, func(i int) {
		if orders[i] == nil {
			errs[i] = errNilOrder
			return
		}
		errs[i] = orders[i].VerifySignature()
	})
	return errs
}
