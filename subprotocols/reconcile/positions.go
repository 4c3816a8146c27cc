package reconcile

import (
	"encoding/binary"
	"fmt"
)

// Positions name hashes of a snapshot by their index in it (its hashes
// ascending, from 0): a list answer gives the index of each hash it lists,
// and a fetch after it names the hashes wanted by index instead of 32
// bytes each. In netsim's defaults the fetches' hashes were about 4.5 % of
// the bytes of the orders a node lacked, at 43 bytes of base64 a hash; an
// index costs one or two bytes.
//
// On the wire, ascending indices are unsigned varints (as
// encoding/binary's): the first index, then each one's distance from the
// one before, at least 1.

// maxPosition bounds an index on the wire: past any snapshot a list can
// name (maxListed), within 4 bytes of varint.
const maxPosition = 1 << 24

// maxPositionBytes is the most bytes one index takes.
const maxPositionBytes = 4

// positionWireBytes is about what a hash fetched by position costs on the
// wire: its position in the list answer and in the fetch, in base64.
const positionWireBytes = 3

// appendPositions appends the encoding of ascending indices to b.
func appendPositions(b []byte, positions []int) []byte {
	prev := 0
	for i, p := range positions {
		if i > 0 {
			p -= prev
		}
		b = binary.AppendUvarint(b, uint64(p))
		prev = positions[i]
	}
	return b
}

// parsePositions decodes at most most indices, each below limit and above
// the one before; anything else is an error.
func parsePositions(b []byte, most, limit int) ([]int, error) {
	if len(b) > most*maxPositionBytes {
		return nil, fmt.Errorf("%d bytes of positions, more than %d positions take", len(b), most)
	}
	out := make([]int, 0, min(len(b), most))
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 || v >= maxPosition {
			return nil, fmt.Errorf("position %d: not a varint below %d", len(out), maxPosition)
		}
		b = b[n:]
		p := int(v)
		if len(out) > 0 {
			if v == 0 {
				return nil, fmt.Errorf("position %d: not above the one before", len(out))
			}
			p += out[len(out)-1]
		}
		if p >= limit || len(out) == most {
			return nil, fmt.Errorf("position %d: %d, want at most %d positions below %d", len(out), p, most, limit)
		}
		out = append(out, p)
	}
	return out, nil
}
