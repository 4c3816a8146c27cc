// Package riblt is the set reconciliation that the reconcile subprotocol
// runs over order hashes: a rateless invertible Bloom lookup table (after
// Yang, Gilad and Alizadeh, "Practical Rateless Set Reconciliation",
// SIGCOMM 2024) and a set digest that checks its result.
//
// # Coded symbols
//
// Every item (a 32-byte order hash) is mapped to an endless, increasing
// sequence of symbol indices, starting at 0, in which index i occurs with
// probability about 1/(1+i/2). Coded symbol i of a set is the XOR of the
// items mapped to it, the XOR of their checksums, and their count. A
// provider sends the first m coded symbols of its set B; the requester
// subtracts those of its own set A and peels: a symbol whose count is ±1
// and whose checksum matches its sum holds exactly one item of the
// difference, which is then removed from every symbol it maps to. When
// every symbol is empty, the requester knows B\A (to fetch) and A\B. About
// 1.4 symbols per difference suffice (measured: 1.79 at d=10, 1.43 at
// d=100, 1.41 at d=1000; TestOverhead), whatever the sizes of the sets,
// and the provider never needs to know the difference in advance: it sends
// more symbols when asked.
//
// # Why not range-based reconciliation
//
// Range-based reconciliation (negentropy, NIP-77) needs no index beyond a
// sorted list, but each difference costs a path of fingerprinted ranges
// down to an ID list. Simulated on the same sets (BenchmarkCompareRangeBased,
// n=100 000, 16-way splits, 16-byte fingerprints, ID lists below 32): 2 679
// bytes for d=1, 1 941 per difference at d=100 and 1 488 at d=1 000, against
// 41, 59 and 59 bytes of coded symbols. At d=1 000 the ranges alone would be
// 1.56 times the 955 kB of missing orders; the goal is 1.25 in all.
//
// The mapping and the checksum are fixed functions of the item, not keyed,
// so that a store can keep the first symbols of its orders current as
// orders come and go (Index) and a provider can answer every requester from
// one copy. On the wire a symbol is 41 bytes: the sum, the checksum, and the
// count modulo 256 (a pure symbol's count is ±1, which survives the
// reduction).
//
// # Why a digest, and why nothing is keyed
//
// Coded symbols are linear over GF(2): a third party that knows an order H
// can grind salts for orders S whose hashes and checksums XOR, symbol by
// symbol, to those of H (Gaussian elimination over a few thousand orders
// per symbol). Put S on one side of a sync and H on the other, and the
// symbols cancel: the requester would think it holds everything while H is
// missing. So a decoded result is never trusted on its own. The provider
// also sends a Digest of B, and the requester checks that its own set, less
// A\B, plus B\A, has the same digest.
//
// A Digest is 16 lanes of sums modulo the prime 2^61-1 of per-item values
// derived from SHA-256: 976 bits that an attacker must cancel all at once,
// with additions in a prime field rather than XOR (so no elimination
// applies). That is a 16-dimensional subset-sum problem; the best known
// attack (Wagner's generalised birthday) with a difference of at most 2^20
// orders costs about 2^69 hash evaluations, against the 2^32 or so that
// sums modulo 2^256 take.
//
// Nothing here is keyed, on purpose. The symbols must not be, or no store
// could keep them current and no provider could answer two requesters from
// one copy. The digest need not be: its strength is its width and its
// field, not a secret, and a per-sync key would add nothing but the option
// of sending one evaluation (8 bytes) instead of the lanes (128 bytes),
// paid for with a cache the provider could no longer share. So stores keep
// the lanes current, a provider caches them per (filter, store version),
// and they travel whole.
//
// What an attacker can still do: grind orders whose symbols cancel those of
// an order it wants hidden, so that decoding ends early and the digest then
// fails. The requester falls back to a full listing (the caller's job), so
// the attack costs bandwidth for one round, not missing orders. What it
// cannot do, short of breaking SHA-256 or solving the subset-sum problem
// above: make a requester believe it holds an order it lacks.
//
// That holds for the sets as the caller builds them, and is only as good
// as what the caller puts in them. An attacker written apart from the
// project (issue 21) found two ways around it that were the caller's, not
// this package's, and both are closed in package reconcile: the requester
// added to its own set, for every provider, the hashes of orders it had
// rejected, and a provider could make it reject real orders by spoiling a
// signature the hash does not cover (1 960 of 2 000 orders, the honest
// provider's copies never fetched); and a first request claiming a huge
// count overflowed the provider's symbol count into a panic. Nor do the
// symbols bound what an answer costs the one who sends it: coded symbols
// are cheap to ask for (a 100-byte request drew 900 kB, 6 788 bytes out per
// byte in, 27 MiB/s to one peer within the default rate limits), so the
// provider caps the symbol bytes it sends each peer (1 MiB/s by default;
// measured 1.19 MiB/s over 5 s with the 1 MiB burst).
package riblt
