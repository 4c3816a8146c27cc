package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ordersync/ordersync/zeroex"
)

// Rejections counts dropped orders by reason.
type Rejections map[string]int

// Total is the number of rejected orders.
func (r Rejections) Total() int {
	n := 0
	for _, c := range r {
		n += c
	}
	return n
}

// String lists the reasons, most frequent first, as
// "bad signature length 2, wrong signer 1", or "none".
func (r Rejections) String() string {
	if len(r) == 0 {
		return "none"
	}
	reasons := make([]string, 0, len(r))
	for reason := range r {
		reasons = append(reasons, reason)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if r[reasons[i]] != r[reasons[j]] {
			return r[reasons[i]] > r[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	parts := make([]string, len(reasons))
	for i, reason := range reasons {
		parts[i] = fmt.Sprintf("%s %d", reason, r[reason])
	}
	return strings.Join(parts, ", ")
}

// signatureReasons names VerifySignature's errors in summaries.
var signatureReasons = []struct {
	err    error
	reason string
}{
	{zeroex.ErrWrongSigner, "wrong signer"},
	{zeroex.ErrMalformedSignature, "malformed signature"},
	{zeroex.ErrBadSignatureLength, "bad signature length"},
	{zeroex.ErrUnknownSignatureType, "unknown signature type"},
	{zeroex.ErrUnverifiableSignature, "unverifiable signature type"},
}

// rejectionReason is the summary name of a VerifySignature error.
func rejectionReason(err error) string {
	for _, r := range signatureReasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	// Anything else comes from hashing a malformed order.
	return "malformed order"
}

// VerifyOrders checks every order's hash and signature on all cores and
// returns, in input order, the orders that verify, and what was dropped by
// reason. firstBad is the first rejected order's error (nil if none), for a
// log line that shows a concrete example.
func VerifyOrders(orders []*zeroex.SignedOrder) (valid []*zeroex.SignedOrder, dropped Rejections, firstBad error) {
	errs := zeroex.VerifySignatures(orders)
	valid = make([]*zeroex.SignedOrder, 0, len(orders))
	dropped = Rejections{}
	for i, err := range errs {
		if err == nil {
			valid = append(valid, orders[i])
			continue
		}
		dropped[rejectionReason(err)]++
		if firstBad == nil {
			firstBad = fmt.Errorf("order %d: %w", i, err)
		}
	}
	return valid, dropped, firstBad
}
