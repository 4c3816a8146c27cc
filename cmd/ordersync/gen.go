package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/zeroex"
)

// genChunk is how many orders gen makes at a time, so that memory stays
// bounded whatever --count is.
const genChunk = 10000

// runGen writes deterministic signed orders (internal/ordergen) to a file,
// for trying serve and sync, and for measurements.
func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, logLevel := cli.NewFlagSet("gen", "--count N --out FILE [--seed S] [--first K] [--makers M] [--chain-id N] [--exchange ADDR] [--expires-in D]", stderr)
	count := fs.Int("count", 1000, "how many orders to write")
	seed := fs.Int64("seed", 1, "seed of the order stream: the same seed gives the same orders")
	first := fs.Int("first", 0, "index of the first order in the stream (files with overlapping ranges share orders)")
	makers := fs.Int("makers", ordergen.DefaultMakers, "how many maker keys sign the orders")
	chainID := fs.Int("chain-id", ordergen.DefaultChainID, "chain `ID` of the orders")
	exchange := fs.String("exchange", "", "exchange `address` the orders are signed for (default: the 0x v3 Exchange of --chain-id)")
	out := fs.String("out", "", "`file` to write, as JSON lines (required)")
	expiresIn := fs.Duration("expires-in", 0, "make every order expire this long from now, to the second (default: in the year 2100, spread over 30 days, the same orders every run)")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if _, err := cli.NewLogger(*logLevel, stderr); err != nil {
		return err
	}
	switch {
	case *out == "":
		return cli.Usagef("--out is required")
	case *count < 0:
		return cli.Usagef("--count %d: must not be negative", *count)
	case *first < 0:
		return cli.Usagef("--first %d: must not be negative", *first)
	case *makers < 1:
		return cli.Usagef("--makers %d: want at least 1", *makers)
	case *expiresIn < 0:
		return cli.Usagef("--expires-in %v: must not be negative", *expiresIn)
	}
	var expiration int64 // ordergen's default
	if *expiresIn > 0 {
		expiration = time.Now().Add(*expiresIn).Unix()
	}
	exchangeAddr, err := cli.ChainExchange(*chainID, *exchange)
	if err != nil {
		return cli.Usage(err)
	}

	var genErr error
	orders := func(yield func(*zeroex.SignedOrder) bool) {
		for start := 0; start < *count; start += genChunk {
			if genErr = ctx.Err(); genErr != nil {
				return
			}
			chunk := ordergen.Generate(ordergen.Options{
				Seed:     *seed,
				First:    *first + start,
				Count:    min(genChunk, *count-start),
				Makers:   *makers,
				ChainID:  int64(*chainID),
				Exchange: exchangeAddr,

				ExpirationTimeSeconds: expiration,
				ExactExpiration:       expiration != 0,
			})
			for _, o := range chunk {
				if !yield(o) {
					return
				}
			}
		}
	}
	n, err := cli.WriteOrderFile(*out, orders)
	if err == nil {
		err = genErr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d orders to %s\n", n, *out)
	return nil
}
