package ordersync

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync/testing/testnet"
)

func TestCheckOptions(t *testing.T) {
	if err := CheckOptions(WithMessageTimeout(time.Second), WithRateLimit(rate.Inf, 0), WithJitter(0)); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	for _, tc := range []struct {
		opt  Option
		name string
	}{
		{WithMessageTimeout(0), "message timeout"},
		{WithFirstRequestTimeout(0), "first request timeout"},
		{WithMaxOrdersPerResponse(0), "max orders per response"},
		{WithRateLimit(10, 0), "rate limit"},
		{WithPeerRateLimit(-1, 1), "peer rate limit"},
		{WithBackoff(time.Second, time.Millisecond), "backoff"},
		{WithJitter(1), "jitter"},
		{WithMaxRequestSize(0), "max request size"},
		{WithMaxStreamsPerPeer(-3), "max streams per peer"},
		{WithLogger(nil), "logger"},
	} {
		err := CheckOptions(tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("CheckOptions: %v, want an error naming %q", err, tc.name)
		}
	}
}

func TestNewPanicsOnInvalidOption(t *testing.T) {
	h := testnet.NewHost(t)
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "max streams") {
			t.Fatalf("recovered %v, want a panic naming max streams", r)
		}
	}()
	newService(t, h, nil, WithMaxStreams(0))
}

func TestPeriodicallyGetOrdersRefusesNonPositiveDelay(t *testing.T) {
	h := testnet.NewHost(t)
	s := newService(t, h, []Subprotocol{newPager("/test/a", nil, 1)}, testOptions(t, 1)...)
	if err := s.PeriodicallyGetOrders(t.Context(), 1, 0); err == nil || !strings.Contains(err.Error(), "approxDelay") {
		t.Fatalf("PeriodicallyGetOrders with delay 0: %v, want an error naming approxDelay", err)
	}
}
