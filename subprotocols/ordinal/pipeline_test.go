package ordinal

import (
	"testing"

	"github.com/ordersync/ordersync/testing/subtest"
)

func TestNextRequestIsHandlesNext(t *testing.T) {
	subtest.NextRequestIsHandlesNext(t, New, seed)
}
