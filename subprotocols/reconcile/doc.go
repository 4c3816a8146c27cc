// Package reconcile is the "/reconcile-riblt/version/1" subprotocol: a
// re-sync that costs the difference between requester and provider, not
// the provider's whole book. Requesters list it first; providers that do
// not know it answer with "/pagination-with-filter/version/1" or "/0", so
// nothing changes for existing nodes.
//
// # The exchange
//
// Both sides reconcile sets of order hashes: the provider's orders that
// match the filter in the request, and the requester's orders that match
// its own filter (the same one) plus the hashes it rejected recently. The
// algorithm is a rateless IBLT (internal/riblt, where the choice is
// justified with measurements against range-based reconciliation):
//
//  1. The first request (op "sketch") carries the requester's filter, how
//     many orders it holds and, when its store keeps an index, a sum of
//     its set (same.go). A provider whose set has that sum answers "same",
//     with nothing else: the two are in sync. Otherwise it answers with the
//     count and digest of its set and its first coded symbols, about 1.5
//     per difference that the two counts show, and at least 12. A requester
//     holding under a tenth of the provider's set gets a first page of
//     orders instead (op "page", as v1 pages), and pages on: a first sync
//     into an empty store costs what v1 costs, plus the longer first
//     request.
//  2. The requester subtracts its own symbols and peels. Until every symbol
//     is empty it asks for more from the same snapshot: about as many as
//     decoding the difference takes in all, its size estimated from the
//     spread of the symbols' counts (riblt's EstimateDifferences), not a
//     fixed growth that overshot. When all are empty, it checks the
//     decoded difference against the provider's digest. Its own first
//     8 192 symbols come from its store's index as the sync began, later
//     ones from a scan; when other syncs stored orders in between, it
//     reads its set again by one scan and decodes the symbols it has
//     against that, once per sync (before, it paged the provider's whole
//     book). When the estimate shows a difference whose symbols would cost
//     more than the provider's whole list of hashes (a large share of its
//     set), it asks for that list instead, in pages, with a request field
//     providers that do not know lists ignore (they answer with symbols),
//     and finds what it lacks by merging the list with its own set. When
//     it holds much of the provider's set, or much of its own, its list
//     requests carry a Bloom filter of its set (5 bytes a hash), or for
//     a provider that takes them a Golomb-coded set (about 3.7 bytes a
//     hash, heldset.go), and the provider lists only what they do not
//     hold (heldfilter.go). Its first request caps the first answer at 256
//     symbols, enough to estimate a large difference, which otherwise
//     drew as many symbols as the counts showed, thrown away when a list
//     followed.
//  3. It fetches the orders it lacks by hash (op "fetch"), at most 500 per
//     request, ascending, or after a list that gave them by their
//     positions in the provider's snapshot (positions.go); the provider
//     answers with those it still holds that match the filter. Every order goes through package
//     pagination's validation pipeline; one whose hash was not asked for
//     is dropped and scored.
//  4. When nothing is left to fetch, the requester ends the sync. It never
//     sends orders: its own extra orders stay where they are.
//
// Symbols are 41 bytes, base64 in the JSON; at 1.4 symbols per difference
// plus 43 bytes of fetch request per hash, a re-sync costs about 1.13 times
// the JSON of the missing orders. Measured by the lab's bench at
// n = 100 000 (docs/protocol.md has the wire format): in sync, 453 bytes
// both ways in one round trip ("same"; 1 275 with the digest and 12
// symbols); 1 missing, 2 719 bytes in 2; 100 missing, 1.148 times their JSON; 1 000 missing,
// 1.134 in 3; 10 000 missing, 1.133 in 21. A first sync into an empty store
// pages: 1 912 249 bytes for 2 000 orders against v1's 1 912 326, in as
// many round trips.
//
// The difference is symmetric: orders only the requester holds cost
// symbols too (about 75 bytes each), though they never travel. A requester
// holding the union of two providers' books pays for the other provider's
// share in every round with each, up to the cost of the provider's list
// (43 bytes a hash), which it asks for past that. Measured with netsim's
// defaults (16 nodes, 3 000 orders each and 20 % shared, 3 peers), lists
// took bytes in per node from 1.36-1.39 to 1.28-1.30 times the bytes of
// the orders a node lacked. Held filters (heldfilter.go) and first
// answers of at most 256 symbols took it on to 1.20-1.23 (from 1.27-1.31
// the same day): symbols from 13.5 % of the orders' bytes to 4.0 %, for
// 3.5 % of filters.
//
// # What a completed sync means
//
// In the original protocol a sync counts for GetOrders when it delivered
// at least one valid order. Here a sync also counts when it showed, by a
// decoded difference that the digest confirms, that the requester already
// held every order of a non-empty provider set (InSync, through
// ordersync.InSyncReporter): a peer we are in sync with has done its job.
// The orders it lacked may have come from another provider meanwhile: once
// the requester holds every one of them (or rejected it for what every copy
// carries), the sync counts. An empty provider set is still
// ordersync.ErrNoOrdersFromPeer, and so is a sync whose missing orders
// were all rejected.
//
// # Several providers at once
//
// A requester that reconciles with several providers at once finds the
// same orders missing in each. Before each fetch it claims the hashes in
// the Service's view of the orders being fetched (ordersync.Validation's
// SyncClaims): it leaves out what the store holds and what another sync is
// fetching, waits for that fetch to end, and fetches what is still
// missing itself. Each missing order comes from one provider; a provider
// that claims orders and never delivers them holds the others up for one
// fetch (at most the message timeout), after which they fetch them. After
// 4 such waits a sync fetches without claiming.
//
// A first sync into an empty store pages, and several at once page a
// share of the hash space each (ordersync.Validation's TakeShare): the
// first takes the whole space into its lanes, a later one the upper half
// of what is left of each lane of the largest share, and the lanes of a
// share whose end moved stop there. When every lane of a share has ended,
// its last lane takes half of the widest range another provider has left,
// as long as that is worth 4 pages, so that a fast provider takes over
// from a slow or stalled one; then the sync waits, at most 10 s, for the
// other shares, and starts over with a sketch request: it reconciles with
// its provider and fetches what the shares missed (orders a provider
// withheld, or that only its provider holds). Nothing changes on the
// wire: a provider sees page requests after cursors of the requester's
// choosing, then a sketch request. Measured with two providers holding the
// same 100 000 orders (cmd/ordersync sync, library defaults): 1.02-1.03
// times the bytes of one provider's sync, where it was 2.00 times.
//
// # Rejected orders
//
// The requester reconciles the hashes of orders it rejected within the
// last hour (WithRejectedHashes) as if it held them, so that a provider
// that holds them is not asked for them every round. What a rejection is
// remembered for depends on what it was judged on. The order hash covers
// the order's content, not its signature: a rejection judged on the
// content (the requester's filter: chain, exchange, custom schema; later
// a node's validator) holds for every copy, and counts as held with every
// provider; a rejection a copy can fake (a broken signature, an order out
// of order) counts as held only with the provider that sent that copy.
// Remembered for everyone, one provider delivering real orders with one
// flipped signature byte hid them from every other provider for an hour.
// A provider whose set holds hashes rejected from its own copies is not
// in sync with the requester (see InSync).
//
// # Strangers
//
// Coded symbols and the digest are unkeyed (internal/riblt says why), so
// a store keeps them current and a provider answers every requester of a
// filter from one snapshot, cached per (filter, store version). A third
// party that grinds order salts can make symbols cancel; it cannot make the
// digest agree, so the requester notices and pages that sync, at v1's cost:
// it never believes it holds an order it lacks. A provider can always
// withhold orders (that is no different from v1), and it cannot make the
// requester count an order as held by spoiling its copies (see "Rejected
// orders"); nor can it make a requester spend without bound:
//
//   - symbols: at most MaxSymbolsPerResponse per response, MaxSymbols per
//     snapshot, WithMaxRounds sketch rounds per sync, then paging;
//   - claimed hashes: at most WithMaxDifferences per sync, then paging;
//   - claims never delivered: a fetch that delivers under half of what it
//     asked for scores peerscore.UndeliveredOrders, and once more than 16 plus a quarter
//     of all hashes asked for are missing the sync ends with
//     ErrUndelivered;
//   - symbols that decode one item twice (no set does that) score
//     peerscore.InvalidSketch and end the sync; a digest that denies the decoded
//     difference scores peerscore.InvalidSketch and pages.
//
// As a provider it keeps nothing per requester but a byte budget: every
// request names its snapshot and range, and at most 8 snapshots are cached
// for everyone. A snapshot from a store with an index costs a copy of its
// first 8 192 symbols; one from a store without costs a scan under
// WithMaxScan, reused for up to a second, past which it pages. A requester
// cannot make a provider spend without bound either:
//
//   - numbers: every count, index and claim it sends is checked without
//     overflowing (a held count near the largest int once made the symbol
//     count negative and the provider panic);
//   - bytes: sketch answers to one requester draw on a budget
//     (WithAnswerRate: 1 MiB/s, bursts of 1 MiB), and a first answer is
//     sized by the provider's own count, whatever difference the requester
//     claims. Measured with 10 000 orders, a requester claiming 2^40 held
//     orders as fast as answers came, 5 s: 27.3 MiB/s (6 788 bytes out per
//     byte in) before, 1.19 MiB/s after, within the Service's default rate
//     limits; a fetch answers each hash once (naming one hash 500 times
//     drew 500 copies);
//   - cores: a snapshot scanned with a costly filter, and a fetch that runs
//     one, hold one of the process's scan slots (package pagination's),
//     as a version 1 page does. Measured with four peers asking for
//     sketches with a fresh costly filter each time: a fresh peer's cheap
//     request waited 84-146 ms (median) and up to 640 ms without them,
//     1-2 ms and up to 51 ms with them (2 shared cores at load 4-6).
//
// # Resuming
//
// A sync that broke off resumes like the others, from its last request: a
// fetch asks again for the same hashes, a sketch for the same range of the
// same snapshot (or, when the provider no longer has it, from symbol 0 of
// a new one, which the requester takes as a restart).
package reconcile
