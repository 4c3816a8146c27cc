package riblt

import (
	"math/big"
	"math/bits"
)

func mulFull(a, b uint64) (uint64, uint64) { return bits.Mul64(a, b) }

func modBig(hi, lo uint64) uint64 {
	v := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
	v.Or(v, new(big.Int).SetUint64(lo))
	return v.Mod(v, new(big.Int).SetUint64(prime)).Uint64()
}
