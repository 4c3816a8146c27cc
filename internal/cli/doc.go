// Package cli is the plumbing the ordersync commands share: flag sets and
// usage errors, the subprotocol names of --subprotocols, identity and order
// files, signature checks on loading, hosts and the in-process sync node that
// the demo and the lab's bench both start.
//
// It lives apart from the commands so that no command reaches into another's
// file, and in internal/ so that it is no promise to library users; the lab
// (a module of its own beside the library) imports it by path.
package cli
