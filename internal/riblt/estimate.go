package riblt

import "math"

// EstimateDifferences estimates the size of the whole difference between
// the two sets from the symbols received so far, decoded or not, so that a
// requester can ask for about as many symbols as decoding it takes rather
// than grow by a fixed factor and overshoot. net is the remote set's size
// less the local set's (the provider's count less the requester's).
//
// An item maps to symbol i with probability p(i), about 2/(i+2), so the
// count of symbol i of the remote less the local set (remote items less
// local ones) varies about net·p(i) with variance d·p(i)(1-p(i)) for d
// differing items: the counts' spread gives d. Counts are known modulo 256
// only, so those whose spread could wrap around are left out. From n
// symbols the estimate is within about sqrt(2/n) of d: a tenth from 200.
func (d *Decoder) EstimateDifferences(net int) int {
	if d.Done() {
		return len(d.seen)
	}
	n := len(d.rawCounts)
	// Each symbol's squared deviation over p(1-p) is an estimate of d with
	// a variance of about d²(2 + 1/(d·p)); they are averaged weighted by
	// the inverse, with d from the previous pass.
	spread := func(k float64) (float64, bool) {
		num, den := 0.0, 0.0
		for i := 1; i < n; i++ {
			p := density(i)
			if k*p*(1-p) > maxSpread {
				continue // its count may have wrapped around modulo 256
			}
			mean := float64(net) * p
			c := float64(d.rawCounts[i])
			c += 256 * math.Round((mean-c)/256) // the count nearest the mean
			w := 1 / (2 + 1/(max(k, 1)*p))
			num += w * (c - mean) * (c - mean) / (p * (1 - p))
			den += w
		}
		return num / den, den > 0
	}
	// A first pass assumes a difference as large as the symbols received
	// (larger ones wrap counts only among the first few), then each pass
	// uses the last one's estimate.
	k, ok := float64(n), true
	for range 3 {
		if k, ok = spread(k); !ok {
			return max(n, len(d.seen))
		}
	}
	// No more than symbols can code: a provider's forged counts, or a
	// net far beyond a float's precision, give any spread.
	return max(int(math.Ceil(min(k, MaxIndex))), len(d.seen))
}

// maxSpread is the largest variance of a count the estimate uses: a
// standard deviation of 30, well inside the 256 a count wraps at.
const maxSpread = 900

// exactDensity holds p(i) for the first symbols, where 2/(i+2) is a few
// percent out (0.64 at 1, not 0.67): with a large net, that error in a
// count's mean outweighs its spread.
var exactDensity = func() []float64 {
	// The gap after index j is at least g with probability
	// ((j+1.5)/(j+0.5+g))^2 (see mapping.advance).
	atLeast := func(j, g int) float64 {
		r := (float64(j) + 1.5) / (float64(j) + 0.5 + float64(g))
		return r * r
	}
	h := make([]float64, 256)
	h[0] = 1
	for i := 1; i < len(h); i++ {
		for j := 0; j < i; j++ {
			g := i - j
			h[i] += h[j] * (atLeast(j, g) - atLeast(j, g+1))
		}
	}
	return h
}()

// density is the probability that an item maps to symbol i.
func density(i int) float64 {
	if i < len(exactDensity) {
		return exactDensity[i]
	}
	return 2 / float64(i+2)
}
