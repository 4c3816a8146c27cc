package riblt

// Union is the Source of the union of two disjoint sets.
func Union(a, b Source) Source { return union{a, b} }

type union struct{ a, b Source }

func (u union) Symbols(from, to int) []Symbol {
	sa, sb := u.a.Symbols(from, to), u.b.Symbols(from, to)
	out := make([]Symbol, min(len(sa), len(sb)))
	for i := range out {
		out[i] = sa[i]
		out[i].merge(&sb[i], 1)
	}
	return out
}

// Prefixed is the Source of a set whose first symbols are known (kept by a
// store's index): later ones come from the Encoder that rest returns, called
// once, when first needed. rest returns nil when the set's items can no
// longer be had as they were; Symbols then returns fewer symbols than asked
// for, which Decoder.Add reports as an error.
func Prefixed(prefix []Symbol, rest func() *Encoder) Source {
	return &prefixed{prefix: prefix, rest: rest}
}

type prefixed struct {
	prefix []Symbol
	rest   func() *Encoder
	enc    *Encoder
	gone   bool
}

func (p *prefixed) Symbols(from, to int) []Symbol {
	if to <= len(p.prefix) {
		return p.prefix[from:to]
	}
	if p.enc == nil && !p.gone {
		p.enc = p.rest()
		p.gone = p.enc == nil
	}
	if p.enc == nil {
		return p.prefix[min(from, len(p.prefix)):]
	}
	return p.enc.Symbols(from, to)
}
