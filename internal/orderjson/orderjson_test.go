package orderjson

import "testing"

func TestWantCountsOpenStores(t *testing.T) {
	if Wanted() {
		t.Fatal("wanted before any store")
	}
	a, b := Want(), Want()
	a()
	a() // a second release of one Want changes nothing
	if !Wanted() {
		t.Fatal("one store still open, yet not wanted")
	}
	b()
	if Wanted() {
		t.Fatal("wanted after every store released")
	}
}
