package zeroex

import (
	"math/big"
	"math/bits"
	"strconv"
)

// decimalChunk is 10^19, the largest power of ten below 2^64: numbers are
// printed 19 digits at a time.
const (
	decimalChunk       = 1e19
	decimalChunkDigits = 19
)

// appendUint256 appends n (which fits a uint256 and is not negative) in
// decimal. Unlike big.Int.Append it allocates nothing but dst's growth.
func appendUint256(dst []byte, n *big.Int) []byte {
	var z [4]uint64
	words := n.Bits()
	if bits.UintSize == 64 {
		for i, w := range words {
			z[i] = uint64(w)
		}
	} else {
		for i, w := range words {
			z[i/2] |= uint64(w) << (32 * (i % 2))
		}
	}
	if z[1]|z[2]|z[3] == 0 {
		return strconv.AppendUint(dst, z[0], 10)
	}
	// Split into base-10^19 digits, least significant first.
	var chunks [5]uint64
	k := 0
	for z != [4]uint64{} {
		var rem uint64
		for i := 3; i >= 0; i-- {
			z[i], rem = bits.Div64(rem, z[i], decimalChunk)
		}
		chunks[k] = rem
		k++
	}
	dst = strconv.AppendUint(dst, chunks[k-1], 10)
	for k -= 2; k >= 0; k-- {
		// Zero-pad every chunk but the first to 19 digits.
		var buf [decimalChunkDigits]byte
		s := strconv.AppendUint(buf[:0], chunks[k], 10)
		for pad := decimalChunkDigits - len(s); pad > 0; pad-- {
			dst = append(dst, '0')
		}
		dst = append(dst, s...)
	}
	return dst
}
