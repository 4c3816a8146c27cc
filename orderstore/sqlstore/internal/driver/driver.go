// Package driver is where sqlstore's database subpackages (sqlstore/sqlite,
// sqlstore/postgres) register themselves, so that sqlstore links neither
// database's code and a program carries only the one it imports.
package driver

import "sync"

// Driver is one database's registration.
type Driver struct {
	// SQLName is the database/sql driver name its package registers.
	SQLName string
	// Explain rewords an error from opening the database named name, when
	// the database's error codes say something an operator can act on;
	// nil keeps errors as they are.
	Explain func(name string, err error) error
}

var (
	mu      sync.RWMutex
	drivers = map[string]Driver{}
)

// Register makes the database kind ("sqlite", "postgres") available to
// sqlstore.Open. Each subpackage calls it from init.
func Register(kind string, d Driver) {
	mu.Lock()
	defer mu.Unlock()
	drivers[kind] = d
}

// Lookup returns the registration of kind, if its package is linked.
func Lookup(kind string) (Driver, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := drivers[kind]
	return d, ok
}
