package sqlstore

import (
	"bytes"
	"errors"
)

// On PostgreSQL an INSERT ... ON CONFLICT DO NOTHING inserts each row
// speculatively: it looks the hash up in the primary key first, inserts
// the row, its index entries, and then writes a second WAL record that
// confirms the row. A plain INSERT finds a stored hash while it inserts the
// key anyway. A sync adds pages of orders it has just looked up and found
// missing, so nearly every row is new: the writer guesses so and inserts
// plainly, and when a stored hash fails the transaction (another process
// added the order meanwhile, or the caller sent a stored one) it runs the
// group again with ON CONFLICT, and keeps doing so for a while, since a
// caller that repeats orders (an import resumed, gossip) tends to go on.
// Measured in docs/schema.md ("PostgreSQL writes, session 6").

// carefulGroups is how many groups the writer writes with ON CONFLICT after
// one met a stored hash.
const carefulGroups = 64

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// conflictGuess is the writer's guess whether the rows it is given are
// new. Only the writer goroutine uses it.
type conflictGuess struct {
	// careful is how many more groups to write with ON CONFLICT.
	careful int
}

// statement is the INSERT for chunk, which is sorted by hash: plain when
// the guess is that its rows are new and no hash repeats in it.
func (g *conflictGuess) statement(chunk []row) string {
	if g.careful > 0 {
		return packedInsertSQL
	}
	for i := 1; i < len(chunk); i++ {
		if bytes.Equal(chunk[i-1][0].([]byte), chunk[i][0].([]byte)) {
			return packedInsertSQL
		}
	}
	return plainInsertSQL
}

// inserted learns from a chunk of which n of all rows were new: a careful
// INSERT that skipped stored rows keeps the writer careful.
func (g *conflictGuess) inserted(n, all int) {
	if n < all {
		g.careful = carefulGroups
	}
}

// retry reports whether a group that failed with err is to be written
// again, carefully: when err is a plain INSERT's duplicate key.
func (g *conflictGuess) retry(err error) bool {
	var state interface{ SQLState() string }
	if g.careful > 0 || !errors.As(err, &state) || state.SQLState() != uniqueViolation {
		return false
	}
	g.careful = carefulGroups
	return true
}

// written counts a group off the careful ones.
func (g *conflictGuess) written() {
	if g.careful > 0 {
		g.careful--
	}
}
