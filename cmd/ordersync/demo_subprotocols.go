package main

import (
	"fmt"
	"strings"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// maxPerPage is the largest page the subprotocols allow.
const maxPerPage = pagination.MaxPerPage

// subprotocolAliases are short names for the command line, beside the wire
// names.
var subprotocolAliases = map[string]string{
	"v1":                 filteredpagination.Name,
	"filteredpagination": filteredpagination.Name,
	"v0":                 ordinal.Name,
	"ordinal":            ordinal.Name,
}

func subprotocolAliasesHelp() string {
	return fmt.Sprintf("v1 or filteredpagination (%s), v0 or ordinal (%s)", filteredpagination.Name, ordinal.Name)
}

// defaultSubprotocolPreference is what existing nodes prefer: the order-hash
// cursor, then page numbers.
func defaultSubprotocolPreference() []string {
	return []string{filteredpagination.Name, ordinal.Name}
}

// shortSubprotocolName is the name the tables show.
func shortSubprotocolName(name string) string {
	switch name {
	case filteredpagination.Name:
		return "v1 (order-hash cursor)"
	case ordinal.Name:
		return "v0 (page numbers)"
	}
	return name
}

// parseSubprotocolList reads a comma-separated preference list of wire
// names or aliases.
func parseSubprotocolList(s string) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	for _, field := range strings.Split(s, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		name := field
		if full, ok := subprotocolAliases[strings.ToLower(field)]; ok {
			name = full
		}
		if name != filteredpagination.Name && name != ordinal.Name {
			return nil, fmt.Errorf("unknown subprotocol %q (want %s)", field, subprotocolAliasesHelp())
		}
		if seen[name] {
			return nil, fmt.Errorf("subprotocol %q listed twice", field)
		}
		seen[name] = true
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no subprotocol in %q", s)
	}
	return names, nil
}

// newSubprotocol builds the named subprotocol over store.
func newSubprotocol(name string, store orderstore.Store, filter *orderfilter.Filter, opts ...pagination.Option) (ordersync.Subprotocol, error) {
	switch name {
	case filteredpagination.Name:
		return filteredpagination.New(store, filter, opts...), nil
	case ordinal.Name:
		return ordinal.New(store, filter, opts...), nil
	}
	return nil, fmt.Errorf("unknown subprotocol %q", name)
}
