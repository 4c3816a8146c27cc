package cli

import (
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ordersync/ordersync/zeroex"
)

// ChainExchange checks --chain-id and --exchange and returns the exchange:
// --exchange when given, else the chain's 0x v3 Exchange.
func ChainExchange(chainID int, exchange string) (common.Address, error) {
	if chainID < 1 {
		return common.Address{}, fmt.Errorf("--chain-id %d: want a positive chain ID", chainID)
	}
	if exchange == "" {
		addr, err := zeroex.ExchangeAddress(chainID)
		if err != nil {
			return common.Address{}, fmt.Errorf("--chain-id %d: no known 0x v3 Exchange on chain %d (known chains: %s); give its --exchange",
				chainID, chainID, strings.Trim(fmt.Sprint(zeroex.KnownChains()), "[]"))
		}
		return addr, nil
	}
	if !common.IsHexAddress(exchange) {
		return common.Address{}, fmt.Errorf("--exchange %q: not an address (want 0x and 40 hex digits)", exchange)
	}
	return common.HexToAddress(exchange), nil
}
