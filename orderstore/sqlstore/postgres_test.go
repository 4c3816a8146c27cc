package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore/storetest"
)

// The packed INSERT (postgres.go) sends a call's byte columns as one value
// and cuts it apart at offsets: every column of every row must come out
// as the order has it, whatever the sizes of its variable values, in a
// call of more rows than one INSERT carries, with some rows stored before.
func TestPostgresInsertWritesEveryColumn(t *testing.T) {
	ctx := context.Background()
	url := pgtestDatabase(t)
	s := open(t, url)
	orders := storetest.Orders(0, 4200) // over rowsPerArrayInsert
	for i, o := range orders {
		o.MakerAssetData = bytes.Repeat([]byte{byte(i)}, i%5*37)       // empty, short, long
		o.TakerAssetData = bytes.Repeat([]byte{byte(i >> 3)}, i%3*400) // empty or long
		o.TakerAddress = common.BigToAddress(big.NewInt(int64(i)))
		o.FeeRecipientAddress = common.BigToAddress(big.NewInt(int64(i) << 20))
		o.SenderAddress = common.BigToAddress(big.NewInt(int64(i) << 40))
		if i%1000 == 7 {
			o.ChainID = new(big.Int).Lsh(big.NewInt(1), 64) // beyond bigint: NULL
		}
		o.ResetHash()
	}
	if n, err := s.AddOrders(ctx, orders[:300]); err != nil || n != 300 {
		t.Fatalf("first call: %d new, %v; want 300", n, err)
	}
	if n, err := s.AddOrders(ctx, orders); err != nil || n != len(orders)-300 {
		t.Fatalf("second call: %d new, %v; want %d", n, err, len(orders)-300)
	}

	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, o := range orders {
		var chain sql.NullInt64
		var exchange, js []byte
		var expiration int64
		h := hashOf(t, o)
		err := db.QueryRowContext(ctx, `SELECT chain_id, exchange_address, expiration_time_seconds, order_json
			FROM orders WHERE hash = $1`, h[:]).Scan(&chain, &exchange, &expiration, &js)
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
		wantJSON, err := o.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name      string
			got, want []byte
		}{
			{"exchange_address", exchange, o.ExchangeAddress[:]},
			{"order_json", js, wantJSON},
		} {
			if !bytes.Equal(c.got, c.want) {
				t.Fatalf("order %d: %s is %x, want %x", i, c.name, c.got, c.want)
			}
		}
		if wantNull := !o.ChainID.IsInt64(); chain.Valid == wantNull || (!wantNull && chain.Int64 != o.ChainID.Int64()) {
			t.Errorf("order %d: chain_id %v, want %s", i, chain, o.ChainID)
		}
		if expiration != o.ExpirationTimeSeconds.Int64() {
			t.Errorf("order %d: expiration_time_seconds %d, want %s", i, expiration, o.ExpirationTimeSeconds)
		}
		if got, ok := s.Get(h); !ok || !got.Equal(o) {
			t.Fatalf("order %d: Get reads back another order", i)
		}
	}
}
