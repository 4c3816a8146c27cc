package sqlstore

import (
	"database/sql"
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
)

// A change set's changes column (schema version 7) is its changes one
// after the other, loggedSize bytes each: the hash, the exchange address,
// a flags byte (removed, chain ID known), the kind (why a removed order
// left) and the chain ID, big-endian, zero when unknown.
const (
	loggedSize     = 32 + 20 + 1 + 1 + 8
	loggedRemoved  = 1 << 0
	loggedHasChain = 1 << 1
)

// appendLogged appends the changes start to end of added followed by
// removed to b, packed.
func appendLogged(b []byte, added, removed []change, start, end int) ([]byte, error) {
	for i := start; i < end; i++ {
		c, gone := changeAt(added, removed, i)
		if len(c.exchange) != 20 {
			return nil, fmt.Errorf("order %x: exchange address of %d bytes", c.hash, len(c.exchange))
		}
		var flags byte
		if gone {
			flags |= loggedRemoved
		}
		var chain uint64
		if c.chainID.Valid {
			flags |= loggedHasChain
			chain = uint64(c.chainID.Int64)
		}
		b = append(b, c.hash[:]...)
		b = append(b, c.exchange...)
		b = append(b, flags, byte(c.kind))
		b = binary.BigEndian.AppendUint64(b, chain)
	}
	return b, nil
}

// changeAt is the i-th change of added followed by removed.
func changeAt(added, removed []change, i int) (change, bool) {
	if i < len(added) {
		return added[i], false
	}
	return removed[i-len(added)], true
}

// appendSet appends the n changes of a set whose last is last to got, as
// packed holds them: another Store's, read in whole. A set whose bytes do
// not hold n changes is an error, not a guess.
func appendSet(got []logged, last int64, n int, writer int64, packed []byte) ([]logged, error) {
	if n <= 0 || len(packed) != n*loggedSize {
		return nil, fmt.Errorf("change set %d: %d bytes for %d changes", last, len(packed), n)
	}
	for i := range n {
		p := packed[i*loggedSize : (i+1)*loggedSize]
		g := logged{seq: last - int64(n) + 1 + int64(i), writer: writer}
		g.c.hash = common.Hash(p[:32])
		g.c.exchange = append([]byte(nil), p[32:52]...)
		flags := p[52]
		g.removed = flags&loggedRemoved != 0
		g.c.kind = orderstore.ChangeKind(p[53])
		if flags&loggedHasChain != 0 {
			g.c.chainID = sql.NullInt64{Int64: int64(binary.BigEndian.Uint64(p[54:])), Valid: true}
		}
		got = append(got, g)
	}
	return got, nil
}
