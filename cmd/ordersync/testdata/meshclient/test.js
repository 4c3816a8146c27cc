// 0x Mesh's published TypeScript client (@0x/mesh-rpc-client 9.4.2), as a
// relayer would use it, against a running "ordersync node --rpc". Run by
// TestMeshClient (cmd/ordersync/meshclient_test.go), which starts the node
// and writes the orders:
//
//   RPC_URL       ws://host:port of the node's API
//   ORDERS        JSON file: {"good": [...], "expiring": [...], "expired": [...]}
//   TIMEOUT_MS    how long to wait for the events
//
// It prints what it checks and exits 0 when all of it held.
'use strict';
const fs = require('fs');
const { WSClient } = require('@0x/mesh-rpc-client');

const url = process.env.RPC_URL;
const orders = JSON.parse(fs.readFileSync(process.env.ORDERS, 'utf8'));
const timeoutMs = Number(process.env.TIMEOUT_MS || 60000);

function check(ok, what) {
    if (!ok) {
        throw new Error('meshclient: FAILED: ' + what);
    }
    console.log('meshclient: ok: ' + what);
}

async function main() {
    const client = new WSClient(url);
    const states = {}; // order hash -> end states seen
    let resolveDone;
    const done = new Promise(resolve => (resolveDone = resolve));
    const expiringHashes = new Set();
    const goodHashes = new Set();
    const allSeen = () =>
        [...goodHashes].every(h => (states[h] || []).includes('ADDED')) &&
        [...expiringHashes].every(h => (states[h] || []).includes('ADDED') && states[h].includes('EXPIRED'));
    await client.subscribeToOrdersAsync(events => {
        for (const e of events) {
            (states[e.orderHash] = states[e.orderHash] || []).push(e.endState);
            if (!Array.isArray(e.contractEvents) || !e.fillableTakerAssetAmount.isFinite() || !(e.timestampMs > 0)) {
                console.log('meshclient: FAILED: event not parsed: ' + JSON.stringify(e));
                process.exit(1);
            }
        }
        if (allSeen()) {
            resolveDone();
        }
    });

    const added = await client.addOrdersAsync(orders.good);
    check(added.accepted.length === orders.good.length && added.rejected.length === 0,
        `addOrdersAsync accepted all ${orders.good.length} orders (pinned, the client's default)`);
    check(added.accepted.every(a => a.isNew && a.fillableTakerAssetAmount.isEqualTo(a.signedOrder.takerAssetAmount)),
        'each is new, fillable for its takerAssetAmount');
    added.accepted.forEach(a => goodHashes.add(a.orderHash));

    const again = await client.addOrdersAsync(orders.good.slice(0, 1));
    check(again.accepted.length === 1 && again.accepted[0].isNew === false, 'an order held already comes back accepted, isNew false');

    const expiring = await client.addOrdersAsync(orders.expiring, false);
    check(expiring.accepted.length === orders.expiring.length, `the ${orders.expiring.length} orders about to expire are accepted`);
    expiring.accepted.forEach(a => expiringHashes.add(a.orderHash));

    const expired = await client.addOrdersAsync(orders.expired);
    check(expired.accepted.length === 0 && expired.rejected.length === 1 &&
        expired.rejected[0].status.code === 'OrderExpired' && expired.rejected[0].kind === 'ZEROEX_VALIDATION',
        'an expired order is rejected with OrderExpired: ' + JSON.stringify(expired.rejected[0] && expired.rejected[0].status));

    const all = await client.getOrdersAsync(2);
    const paged = new Set(all.ordersInfos.map(oi => oi.orderHash));
    check([...goodHashes].every(h => paged.has(h)), `getOrdersAsync pages back every order, 2 a page (${all.ordersInfos.length} in all)`);
    check(typeof all.snapshotID === 'string' && all.snapshotID !== '' && all.snapshotTimestamp > 0, 'with a snapshot ID and time');

    const stats = await client.getStatsAsync();
    check(stats.numOrders >= orders.good.length && stats.ethereumChainID === 1337 && stats.latestBlock.number === 0 &&
        typeof stats.peerID === 'string' && stats.numPinnedOrders === orders.good.length,
        'getStatsAsync: ' + JSON.stringify(stats));

    const timer = setTimeout(() => {
        console.log('meshclient: FAILED: events not all seen within ' + timeoutMs + ' ms: ' + JSON.stringify(states));
        process.exit(1);
    }, timeoutMs);
    await done;
    clearTimeout(timer);
    check(true, 'subscribeToOrdersAsync saw ADDED for every order and EXPIRED for those that expired');
    client.destroy();
    process.exit(0);
}

main().catch(err => {
    console.log(String(err && err.stack || err));
    process.exit(1);
});
