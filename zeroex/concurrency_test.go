package zeroex

import (
	"bytes"
	"fmt"
	"math/rand"
	"sync"
	"testing"
)

// TestConcurrentReaders has many goroutines fill and read the caches of the
// same orders at once; under -race it proves the caches are race-free.
func TestConcurrentReaders(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	key := testKey(t, 3)
	orders := make([]*SignedOrder, 8)
	want := make([][]byte, len(orders))
	for i := range orders {
		s := signedTestOrder(t, r, key)
		var err error
		if want[i], err = s.MarshalJSON(); err != nil {
			t.Fatal(err)
		}
		// A fresh copy with empty caches for the goroutines to race on.
		orders[i] = &SignedOrder{Order: s.Order, Signature: s.Signature}
		orders[i].ResetHash()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, s := range orders {
				if err := s.VerifySignature(); err != nil {
					errs <- err
				}
				enc, err := s.AppendJSON(nil)
				if err != nil {
					errs <- err
				} else if !bytes.Equal(enc, want[i]) {
					errs <- fmt.Errorf("order %d: encoding differs under concurrency", i)
				}
				if _, err := s.ComputeOrderHash(); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, s := range orders {
		got, _ := s.MarshalJSON()
		if !bytes.Equal(got, want[i]) {
			t.Errorf("order %d: encoding changed under concurrency", i)
		}
	}
}
