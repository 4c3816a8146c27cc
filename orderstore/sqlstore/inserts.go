package sqlstore

import (
	"database/sql"
	"slices"
)

// keptShortInserts is how many sizes of short INSERT (a call's last chunk,
// under rowsPerInsert rows) the writer keeps prepared. A sync's calls are
// pages of one size, so their last chunks are too (116 rows of a 500-order
// page).
const keptShortInserts = 4

// insertStatements are the writer's prepared INSERTs, by number of rows:
// the full chunk's, prepared once, and the short ones of the last few
// sizes, so that no page compiles its own statement.
type insertStatements struct {
	s      *Store
	byRows map[int]*sql.Stmt
	short  []int // sizes under rowsPerInsert held in byRows, oldest first
	// conflicts is PostgreSQL's guess whether ON CONFLICT is needed
	// (conflicts.go).
	conflicts conflictGuess
}

func newInsertStatements(s *Store) *insertStatements {
	return &insertStatements{s: s, byRows: make(map[int]*sql.Stmt)}
}

// prepare readies the statements that group's chunks need. It runs outside
// any transaction: SQLite's writer pool has one connection, which a
// transaction holds. A statement that does not prepare is left to insert,
// which then compiles its own.
func (p *insertStatements) prepare(group []*writeRequest) {
	for _, req := range group {
		if len(req.rows) >= rowsPerInsert {
			p.add(rowsPerInsert)
		}
		if n := len(req.rows) % rowsPerInsert; n > 0 {
			p.add(n)
		}
	}
}

func (p *insertStatements) add(n int) {
	if _, ok := p.byRows[n]; ok {
		return
	}
	stmt, err := p.s.write.PrepareContext(p.s.life, p.s.insertSQL(n))
	if err != nil {
		return
	}
	p.byRows[n] = stmt
	if n == rowsPerInsert {
		return
	}
	p.short = append(p.short, n)
	if len(p.short) > keptShortInserts {
		p.byRows[p.short[0]].Close()
		delete(p.byRows, p.short[0])
		p.short = slices.Delete(p.short, 0, 1)
	}
}

// get is the prepared INSERT of n rows, or nil.
func (p *insertStatements) get(n int) *sql.Stmt { return p.byRows[n] }

func (p *insertStatements) close() {
	for _, stmt := range p.byRows {
		stmt.Close()
	}
	clear(p.byRows)
	p.short = nil
}
