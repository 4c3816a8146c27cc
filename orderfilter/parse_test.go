package orderfilter

import (
	"fmt"
	"sync"
	"testing"
)

// filterJSON is a distinct valid filter for each n.
func filterJSON(n int) []byte {
	return fmt.Appendf(nil, `{"customOrderSchema":"{\"properties\":{\"salt\":{\"maxLength\":%d}}}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}`, n)
}

func TestParseCompilesOncePerBytes(t *testing.T) {
	data := filterJSON(0)
	first, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(append([]byte(nil), data...))
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatal("the same bytes compiled twice")
	}
	mustMatch(t, again, testOrder(t), false) // maxLength 0: nothing passes
	other, err := Parse(filterJSON(100))
	if err != nil || other == first {
		t.Fatalf("other bytes: %p, %v", other, err)
	}
	mustMatch(t, other, testOrder(t), true)
}

func TestParseCacheIsBounded(t *testing.T) {
	oldest, err := Parse(filterJSON(5000))
	if err != nil {
		t.Fatal(err)
	}
	for n := range parseCacheSize {
		if _, err := Parse(filterJSON(1000 + n)); err != nil {
			t.Fatal(err)
		}
	}
	if got := parsed.len(); got != parseCacheSize {
		t.Fatalf("cache holds %d filters, want %d", got, parseCacheSize)
	}
	again, err := Parse(filterJSON(5000))
	if err != nil {
		t.Fatal(err)
	}
	if again == oldest {
		t.Fatal("the least recently used filter was not evicted")
	}
}

func TestParseIsSafeForConcurrentUse(t *testing.T) {
	o := testOrder(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := range 40 {
				f, err := Parse(filterJSON(n % (10 + g)))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := f.MatchOrder(o); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
