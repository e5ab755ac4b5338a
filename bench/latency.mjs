#!/usr/bin/env node
// Added latency per tools/call: one real client (the SDK's Client, one open session per path)
// calls the `echo` tool of one real upstream (tests/peers/fixture-server.mjs)
//   direct      Streamable HTTP to the upstream
//   broker      Streamable HTTP to the broker's /mcp (tool fx__echo), the broker to the upstream
//   mcp-remote  stdio to mcp-remote (npm), mcp-remote over Streamable HTTP to the upstream
//   tcp-relay   Streamable HTTP through bench/diag/tcp-relay.c, which only relays bytes: what
//               any process between client and upstream costs on this machine (the floor)
// in rounds: each round makes --batch calls on each path, the order of the paths rotating from
// round to round, so that drift of the machine's load hits all paths alike. One call at a time.
//
//   bench/latency.mjs [--calls N] [--batch N] [--warmup N]      (defaults 2000, 100, 200)
//                     [--preload-nodelay]
//
// Prints p50/p90/p99 per path and what the broker and mcp-remote add to direct; writes
// bench/results/latency.json. --preload-nodelay is a diagnostic: the broker runs with
// bench/diag/nodelay.c preloaded (TCP_NODELAY on the sockets it accepts; built with cc into
// the scratch folder) and the results go to latency-nodelay.json.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  BrokerHome, die, enterHarness, httpClient, log, makeWorkDir, median, node22, noDelayPreload, numberOption, peersDir,
  printTable, startFixture, startTcpRelay, stdioClient, summarize, timedCall, writeResult,
} from './lib/common.mjs';

enterHarness(import.meta.url);

const calls = numberOption('calls', 2000);
const batch = numberOption('batch', 100);
const warmup = numberOption('warmup', 200);
const rounds = Math.ceil(calls / batch);
const mcpRemote = join(peersDir, 'node_modules/mcp-remote/dist/proxy.js');
if (!existsSync(mcpRemote)) die(`mcp-remote is not at ${mcpRemote}: run bench/setup.sh first.`);
const args = { text: 'bench' };
const preloadNoDelay = process.argv.includes('--preload-nodelay');

const work = makeWorkDir('latency');
const fixture = await startFixture(work.dir);
const home = new BrokerHome(work.dir);
await home.add('fx', fixture.url);
await home.createGrant();
const broker = await home.serve({ env: noDelayPreload(work.dir, preloadNoDelay) });
const relay = await startTcpRelay(work.dir, fixture.url);

// mcp-remote as an MCP client's config would start it; the upstream needs no sign-in, and its
// OAuth state (none) goes to the scratch folder instead of ~/.mcp-auth.
const remoteEnv = { PATH: process.env.PATH, HOME: work.dir, MCP_REMOTE_CONFIG_DIR: join(work.dir, 'mcp-auth') };
const paths = [
  { name: 'direct', tool: 'echo', session: await httpClient(fixture.url) },
  { name: 'broker', tool: 'fx__echo', session: await httpClient(broker.url, { grant: true }) },
  {
    name: 'mcp-remote',
    tool: 'echo',
    session: await stdioClient(node22, [mcpRemote, fixture.url, '--transport', 'http-only', '--silent'], {
      env: remoteEnv,
      logPath: join(work.dir, 'mcp-remote.log'),
    }),
  },
  { name: 'tcp-relay', tool: 'echo', session: await httpClient(relay.url) },
];

log(`warm-up: ${warmup} calls per path`);
for (let i = 0; i < warmup; i++) {
  for (const path of paths) await timedCall(path.session.client, path.tool, args);
}

log(`measuring: ${rounds} rounds of ${batch} calls per path`);
for (const path of paths) {
  path.samples = [];
  path.roundMedians = [];
}
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < paths.length; k++) {
    const path = paths[(round + k) % paths.length];
    const samples = [];
    for (let i = 0; i < batch; i++) samples.push(await timedCall(path.session.client, path.tool, args));
    path.samples.push(...samples);
    path.roundMedians.push(median(samples) / 1e6);
  }
}

for (const path of paths) await path.session.close();
await broker.stop();
await relay.stop();
await fixture.stop();

const round3 = (x) => Math.round(x * 1000) / 1000;
const direct = paths[0];
const stats = Object.fromEntries(paths.map((p) => [p.name, summarize(p.samples)]));
const added = {};
for (const path of paths.slice(1)) {
  const s = stats[path.name];
  const d = stats.direct;
  added[path.name] = {
    p50: round3(s.p50 - d.p50),
    p99: round3(s.p99 - d.p99),
    ratioP50: round3(s.p50 / d.p50),
    // Per round, the difference of the two medians; the median of those: drift cancels.
    pairedP50: round3(median(path.roundMedians.map((m, r) => m - direct.roundMedians[r]))),
  };
}
const targets = {
  brokerAddsUnder0_3msP50: added.broker.p50 < 0.3,
  brokerAddsUnder2msP99: added.broker.p99 < 2,
  brokerBelowMcpRemoteP50: added.broker.p50 < added['mcp-remote'].p50,
  brokerBelowMcpRemoteP99: added.broker.p99 < added['mcp-remote'].p99,
};
// Not a target: how much of the broker's p50 any hop costs here, and how much is its own work.
const beyondRelayP50 = round3(added.broker.p50 - added['tcp-relay'].p50);

writeResult(preloadNoDelay ? 'latency-nodelay' : 'latency', { diagnostic: preloadNoDelay ? 'broker with TCP_NODELAY preloaded' : undefined, calls: rounds * batch, batch, warmup, stats, added, beyondRelayP50, targets });
work.cleanup();

printTable(
  ['path', 'calls', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'added p50', 'added p99', 'paired p50', 'p50 ratio'],
  paths.map(({ name }) => {
    const s = stats[name];
    const a = added[name];
    return [name, s.n, s.p50, s.p90, s.p99, s.mean, a?.p50 ?? '-', a?.p99 ?? '-', a?.pairedP50 ?? '-', a?.ratioP50 ?? '1'];
  }),
);
for (const [target, met] of Object.entries(targets)) process.stdout.write(`${met ? 'MET    ' : 'MISSED '} ${target}\n`);
process.stdout.write(`broker's p50 beyond a bare TCP relay's: ${beyondRelayP50} ms\n`);
