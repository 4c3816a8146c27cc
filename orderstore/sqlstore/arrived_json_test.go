package sqlstore_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/zeroex"
)

// TestStoresWhatArrivedOrItsEncoding adds orders decoded from JSON, as a
// sync's pages arrive: one in exactly its encoding (which the writer stores
// without encoding it again) and others that differ in spacing, letter case
// and field order (which it encodes). Each reads back as the same order,
// with the same hash and the canonical encoding.
func TestStoresWhatArrivedOrItsEncoding(t *testing.T) {
	for name, openStore := range map[string]func(testing.TB) *sqlstore.Store{
		"sqlite":   openSQLite,
		"postgres": openPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			ctx := context.Background()
			built := storetest.Orders(0, 4)
			var arrived []*zeroex.SignedOrder
			var want [][]byte
			for i, o := range built {
				enc, err := o.AppendJSONUncached(nil)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, enc)
				in := string(enc)
				switch i {
				case 1:
					in = strings.ReplaceAll(in, ",", " ,\n ")
				case 2:
					// Uppercase hex in the signature.
					at := strings.Index(in, `"signature":"0x`) + len(`"signature":"0x`)
					in = in[:at] + strings.ToUpper(in[at:])
				case 3:
					salt := in[strings.Index(in, `,"salt":`):strings.Index(in, `,"signature":`)]
					in = "{" + salt[1:] + "," + strings.Replace(in, salt, "", 1)[1:]
				}
				o := new(zeroex.SignedOrder)
				if err := o.UnmarshalJSON([]byte(in)); err != nil {
					t.Fatalf("order %d: %v\n%s", i, err, in)
				}
				arrived = append(arrived, o)
			}
			if n, err := s.AddOrders(ctx, arrived); err != nil || n != len(arrived) {
				t.Fatalf("AddOrders: %d, %v", n, err)
			}
			for i, o := range built {
				h := hashOf(t, o)
				got, ok := s.Get(h)
				if !ok {
					t.Fatalf("order %d: not stored", i)
				}
				if hashOf(t, got) != h || !got.Equal(o) {
					t.Errorf("order %d: read back another order", i)
				}
				if enc, err := got.AppendJSON(nil); err != nil || !bytes.Equal(enc, want[i]) {
					t.Errorf("order %d: stored %s, want %s (%v)", i, enc, want[i], err)
				}
			}
		})
	}
}
