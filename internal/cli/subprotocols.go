package cli

import (
	"fmt"
	"strings"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
)

// MaxPerPage is the largest page the subprotocols allow.
const MaxPerPage = pagination.MaxPerPage

// Subprotocol names on the command line. Every command that takes
// --subprotocols (sync, demo) parses it with parseSubprotocols, so they all
// accept the same names: these, their aliases and the wire names.
const (
	NameReconcile          = "reconcile"
	NameFilteredPagination = "filtered-pagination"
	NameOrdinal            = "ordinal"
	DefaultSubprotocols    = NameReconcile + "," + NameFilteredPagination + "," + NameOrdinal
)

// subprotocolNames maps every accepted name, lower case, to the wire name.
var subprotocolNames = map[string]string{
	NameReconcile:           reconcile.Name,
	reconcile.Name:          reconcile.Name,
	NameFilteredPagination:  filteredpagination.Name,
	"filteredpagination":    filteredpagination.Name,
	"v1":                    filteredpagination.Name,
	filteredpagination.Name: filteredpagination.Name,
	NameOrdinal:             ordinal.Name,
	"v0":                    ordinal.Name,
	ordinal.Name:            ordinal.Name,
}

// SubprotocolsUsage documents the --subprotocols flag, the same for every
// command that has it.
func SubprotocolsUsage(what string) string {
	return fmt.Sprintf("%s, most preferred first: a comma-separated `list` of %s (also %s), %s (also v1, filteredpagination or %s) and %s (also v0 or %s)",
		what, NameReconcile, reconcile.Name, NameFilteredPagination, filteredpagination.Name, NameOrdinal, ordinal.Name)
}

// DefaultSubprotocolPreference is the default preference, as wire names:
// set reconciliation, then what existing nodes prefer (the order-hash
// cursor, then page numbers), so that old peers answer with those.
func DefaultSubprotocolPreference() []string {
	return []string{reconcile.Name, filteredpagination.Name, ordinal.Name}
}

// PaginationPreference is what existing nodes prefer: the full syncs of the
// bench measure these.
func PaginationPreference() []string {
	return []string{filteredpagination.Name, ordinal.Name}
}

// ShortSubprotocolName is the name the tables show.
func ShortSubprotocolName(name string) string {
	switch name {
	case filteredpagination.Name:
		return "v1 (order-hash cursor)"
	case ordinal.Name:
		return "v0 (page numbers)"
	case reconcile.Name:
		return "reconcile"
	}
	return name
}

// ParseSubprotocols reads a comma-separated preference list of the names
// subprotocolNames accepts, in any case, and returns the wire names, most
// preferred first. An empty entry, an unknown name or one subprotocol named
// twice is an error.
func ParseSubprotocols(list string) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("empty name (want a comma-separated list of %s, %s and %s)", NameReconcile, NameFilteredPagination, NameOrdinal)
		}
		name, ok := subprotocolNames[strings.ToLower(entry)]
		if !ok {
			return nil, fmt.Errorf("unknown subprotocol %q (want %s, %s or %s)", entry, NameReconcile, NameFilteredPagination, NameOrdinal)
		}
		if seen[name] {
			return nil, fmt.Errorf("%q: %s listed twice", entry, name)
		}
		seen[name] = true
		names = append(names, name)
	}
	return names, nil
}

// NewSubprotocol builds the subprotocol of a wire name (as parseSubprotocols
// returns them) over store, scoring providers through scorer (nil: none).
func NewSubprotocol(name string, store orderstore.Store, filter *orderfilter.Filter, scorer pagination.PeerScorer, opts ...pagination.Option) (ordersync.Subprotocol, error) {
	if scorer != nil {
		opts = append(opts, pagination.WithPeerScorer(scorer))
	}
	switch name {
	case reconcile.Name:
		ropts := []reconcile.Option{reconcile.WithPagination(opts...)}
		if scorer != nil {
			ropts = append(ropts, reconcile.WithPeerScorer(scorer))
		}
		return reconcile.New(store, filter, ropts...), nil
	case filteredpagination.Name:
		return filteredpagination.New(store, filter, opts...), nil
	case ordinal.Name:
		return ordinal.New(store, filter, opts...), nil
	}
	return nil, fmt.Errorf("unknown subprotocol %q", name)
}
