#!/usr/bin/env node
// Throughput with 1, 8 and 64 concurrent clients: each client is the SDK's Client with its own
// session, calling the `echo` tool of tests/peers/fixture-server.mjs back to back (closed
// loop) for --seconds, through the broker and, for comparison, directly. Also the CPU time
// each process used per call (utime + stime from /proc/<pid>/stat), which shows where the
// time goes: with a Node upstream and a Node client on 2 cores, they are usually the limit.
//
//   bench/throughput.mjs [--seconds S] [--clients 1,8,64] [--preload-nodelay]
//                                                               (defaults 5, 1,8,64)
//
// Writes bench/results/throughput.json; with the diagnostic --preload-nodelay (see
// bench/latency.mjs) throughput-nodelay.json.

import {
  BrokerHome, cpuMs, die, enterHarness, httpClient, log, makeWorkDir, noDelayPreload, numberOption,
  printTable, startFixture, summarize, timedCall, writeResult,
} from './lib/common.mjs';

enterHarness(import.meta.url);

const argv = process.argv.slice(2);
const seconds = numberOption('seconds', 5);
const levels = (argv.includes('--clients') ? argv[argv.indexOf('--clients') + 1] ?? '' : '1,8,64').split(',').map(Number);
if (!levels.every((n) => Number.isInteger(n) && n > 0)) die('--clients needs a list like 1,8,64');
const args = { text: 'bench' };
const preloadNoDelay = argv.includes('--preload-nodelay');

const work = makeWorkDir('throughput');
const fixture = await startFixture(work.dir);
const home = new BrokerHome(work.dir);
await home.add('fx', fixture.url);
await home.createGrant();
const broker = await home.serve({ env: noDelayPreload(work.dir, preloadNoDelay) });

const targets = [
  { name: 'direct', url: fixture.url, tool: 'echo', grant: false },
  { name: 'broker', url: broker.url, tool: 'fx__echo', grant: true },
];

async function run(target, clients) {
  const sessions = await Promise.all(
    Array.from({ length: clients }, () => httpClient(target.url, { grant: target.grant })),
  );
  // Warm-up: a few calls on every session.
  await Promise.all(sessions.map(async (s) => { for (let i = 0; i < 5; i++) await timedCall(s.client, target.tool, args); }));

  const samples = [];
  const cpuBefore = { broker: cpuMs(broker.pid), upstream: cpuMs(fixture.pid), client: cpuMs() };
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  await Promise.all(
    sessions.map(async (s) => {
      while (process.hrtime.bigint() < deadline) samples.push(await timedCall(s.client, target.tool, args));
    }),
  );
  const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
  const perCall = (before, after) => Math.round(((after - before) / samples.length) * 1000) / 1000;
  const cpuPerCallMs = {
    broker: target.name === 'broker' ? perCall(cpuBefore.broker, cpuMs(broker.pid)) : 0,
    upstream: perCall(cpuBefore.upstream, cpuMs(fixture.pid)),
    client: perCall(cpuBefore.client, cpuMs()),
  };
  await Promise.all(sessions.map((s) => s.close()));
  return {
    target: target.name,
    clients,
    calls: samples.length,
    seconds: Math.round(elapsedS * 100) / 100,
    callsPerSecond: Math.round(samples.length / elapsedS),
    latency: summarize(samples),
    cpuPerCallMs,
  };
}

const results = [];
for (const clients of levels) {
  for (const target of targets) {
    log(`${clients} client(s) → ${target.name} for ${seconds} s`);
    results.push(await run(target, clients));
  }
}
await broker.stop();
await fixture.stop();
writeResult(preloadNoDelay ? 'throughput-nodelay' : 'throughput', {
  diagnostic: preloadNoDelay ? 'broker with TCP_NODELAY preloaded' : undefined,
  seconds,
  results,
});
work.cleanup();

printTable(
  ['target', 'clients', 'calls', 'calls/s', 'p50 ms', 'p99 ms', 'broker CPU ms/call', 'upstream CPU ms/call', 'client CPU ms/call'],
  results.map((r) => [
    r.target, r.clients, r.calls, r.callsPerSecond, r.latency.p50, r.latency.p99,
    r.target === 'broker' ? r.cpuPerCallMs.broker : '-', r.cpuPerCallMs.upstream, r.cpuPerCallMs.client,
  ]),
);
