//go:build tools

package main

// netsim builds the operator's ordersync from this module (see
// findOrdersync), so this module's go.mod must hold what that program
// imports beyond the library: go-ethereum's rpc package, for node --rpc.
// The tools build tag keeps it out of the lab's own binary while go mod
// tidy still sees it.
import _ "github.com/ethereum/go-ethereum/rpc"
