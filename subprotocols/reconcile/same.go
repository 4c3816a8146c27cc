package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/zeroex"
)

// A node in sync with a provider used to receive, every round, the
// provider's digest and 12 symbols (about 900 bytes of JSON) only to
// decode an empty difference: about half of what an idle node read. Its first
// request now carries a sum of its own set (HeldSum), and a provider whose
// set has the same sum answers "same" (ResponseMetadata.Same) with no
// symbols and no digest.
//
// The sum is SHA-256 over the set's count and whole digest, so a third
// party that grinds order salts can no more make two different sets share
// a sum than share a digest. A provider that answers "same" falsely gains
// nothing it lacked: it can always withhold orders, and it can already
// make a sync count by delivering any one valid order, or by mirroring the
// requester's own set into its symbols and digest.

// sumSize is the size of a set's sum on the wire.
const sumSize = sha256.Size

// sumTag separates set sums from any other SHA-256 of the same bytes.
const sumTag = "ordersync/reconcile/same"

// setSum is the sum of a set: SHA-256 of sumTag, its count (8 bytes,
// little-endian) and its digest's lanes as on the wire.
func setSum(d *riblt.Digest) []byte {
	h := sha256.New()
	h.Write([]byte(sumTag))
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(d.Count())))
	h.Write(riblt.AppendDigest(nil, d))
	return h.Sum(nil)
}

// heldAndSum is what a sync's first request says of the requester's set:
// how many orders it holds, and its sum when the store's index gives the
// digest for free (nil otherwise: summing a scan would cost four SHA-256
// blocks an order on every first request, and the set is decoded then
// anyway). The set is the one every provider is reconciled with: the
// orders of the filter and the hashes rejected for every provider.
func (s *Subprotocol) heldAndSum() (int, []byte, error) {
	all, _ := s.rejectedNotHeld("")
	ix, ok := fromIndex(s.store, s.filter, 0)
	if !ok {
		hashes, err := s.scanOwn(context.Background())
		if err != nil {
			return 0, nil, err
		}
		return len(hashes) + len(all), nil, nil
	}
	held := ix.count + len(all)
	if held == 0 {
		return 0, nil, nil // a provider never answers an empty set with "same"
	}
	d := ix.digest
	for _, h := range all {
		x := riblt.Item(h)
		d.AddItem(&x)
	}
	return held, setSum(&d), nil
}

// sameAnswer is the answer to a first sketch request whose requester holds
// exactly the snapshot's set, or nil: no symbols and no digest, only the
// count, so that the requester counts the sync as in sync.
func sameAnswer(md *RequestMetadata, sn *snapshot) *ordersync.Response {
	if len(md.HeldSum) != sumSize || md.Snapshot != 0 || sn.count == 0 || md.Held != sn.count {
		return nil
	}
	sum := setSum(&sn.digest)
	if string(sum) != string(md.HeldSum) {
		return nil
	}
	return &ordersync.Response{Orders: []*zeroex.SignedOrder{},
		Metadata: &ResponseMetadata{Op: OpSketch, Total: sn.count, Same: true}}
}

// takeSame ends a sync whose provider answered its first request "same":
// the requester held the provider's whole set, as when a decoded
// difference is empty and the digest agrees. Only the first answer of a
// sync may say it; a provider that says it unasked is believed as one that
// says it falsely would be (see above).
func (s *Subprotocol) takeSame(provider peer.ID, md *ResponseMetadata, st *syncState) (*ordersync.Request, error) {
	if st.dec != nil || st.listing || st.rounds > 0 {
		return nil, fmt.Errorf("%w: \"same\" after symbols", ErrUnexpected)
	}
	st.rounds++
	st.total = md.Total
	s.metrics().ReconciliationRound(provider, ordersync.RoleRequester, Name, 0)
	st.inSync = true
	return nil, nil
}
