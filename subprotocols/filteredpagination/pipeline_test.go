package filteredpagination

import (
	"testing"

	"github.com/ordersync/ordersync/subprotocols/internal/subtest"
)

func TestNextRequestIsHandlesNext(t *testing.T) {
	subtest.NextRequestIsHandlesNext(t, New, seed)
}
