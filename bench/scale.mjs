#!/usr/bin/env node
// Scale: --servers upstreams × --tools tools each (bench/peers/many-tools-server.mjs, all in
// one Node process), every one added to the broker. Measures
//   ready   from spawning `mcp-broker serve` to /status showing every server ready with all
//           its tools (the broker fetches the catalogs at start);
//   first   the first aggregated tools/list (all pages) of the first client session;
//   warm    --repeat more tools/list on that session (p50/p99), and on fresh sessions;
//   pages   the time of each page of those lists (the broker pages by 200);
//   direct  for comparison, the same client listing each upstream directly, one by one;
//   RSS     of the broker once ready, after the lists, and after --settle seconds idle and
//           the same lists again (VmRSS, VmHWM).
//
//   bench/scale.mjs [--servers N] [--tools N] [--repeat N] [--settle S]  (defaults 50, 100, 10, 65)
//
// Writes bench/results/scale.json.

import { join } from 'node:path';
import {
  BrokerHome, benchDir, cpuMs, enterHarness, httpClient, listAllTools, log, makeWorkDir, mib, node22,
  numberOption, printTable, procStatusKiB, Proc, summarize, waitUntilReady, writeResult,
} from './lib/common.mjs';

enterHarness(import.meta.url);

const serverCount = numberOption('servers', 50);
const toolCount = numberOption('tools', 100);
const repeat = numberOption('repeat', 10);
const settleS = numberOption('settle', 65);

const work = makeWorkDir('scale');
const upstreams = new Proc('many-tools', node22, [join(benchDir, 'peers/many-tools-server.mjs'), '--servers', String(serverCount), '--tools', String(toolCount)], { logDir: work.dir });
const [line] = await upstreams.waitForLine(/^LISTENING( \d+)+$/, 60000);
const ports = line.split(' ').slice(1).map(Number);

const home = new BrokerHome(work.dir);
log(`adding ${ports.length} servers`);
for (const [i, port] of ports.entries()) await home.add(`s${String(i).padStart(2, '0')}`, `http://127.0.0.1:${port}/mcp`);
await home.createGrant();
log('starting the broker');

const spawnedNs = process.hrtime.bigint();
const broker = await home.serve({ timeoutMs: 60000 });
await waitUntilReady(broker.statusUrl, serverCount, { minTools: toolCount, timeoutMs: 120000 });
const readyMs = Number(process.hrtime.bigint() - spawnedNs) / 1e6;
const rssReadyKiB = procStatusKiB(broker.pid);
log(`ready after ${Math.round(readyMs)} ms; listing tools`);

// One aggregated tools/list, every page; the time of each page goes to `pageNs`.
const pageNs = [];
let pages = 0;
async function timedList(session) {
  const start = process.hrtime.bigint();
  let count = 0;
  let cursor;
  pages = 0;
  do {
    const pageStart = process.hrtime.bigint();
    const page = await session.client.listTools(cursor === undefined ? {} : { cursor });
    pageNs.push(Number(process.hrtime.bigint() - pageStart));
    count += page.tools.length;
    pages += 1;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const ns = Number(process.hrtime.bigint() - start);
  if (count !== serverCount * toolCount) throw new Error(`tools/list gave ${count} tools, not ${serverCount * toolCount}`);
  return ns;
}

// The same client listing every upstream directly, one after the other: what the tools cost
// the client and the upstreams without the broker.
async function directListAll() {
  const start = process.hrtime.bigint();
  for (const port of ports) {
    const direct = await httpClient(`http://127.0.0.1:${port}/mcp`);
    const tools = await listAllTools(direct.client);
    if (tools.length !== toolCount) throw new Error(`upstream on ${port} listed ${tools.length} tools`);
    await direct.close();
  }
  return Number(process.hrtime.bigint() - start);
}

const session = await httpClient(broker.url, { grant: true });
const firstNs = await timedList(session);
const warmNs = [];
const rssAfterEachListKiB = [procStatusKiB(broker.pid)];
const cpuBefore = cpuMs(broker.pid);
for (let i = 0; i < repeat; i++) {
  warmNs.push(await timedList(session));
  rssAfterEachListKiB.push(procStatusKiB(broker.pid));
}
const brokerCpuPerListMs = (cpuMs(broker.pid) - cpuBefore) / repeat;
await session.close();
// A new client session each time (initialize + tools/list), as a client that starts anew.
const freshNs = [];
for (let i = 0; i < Math.min(repeat, 5); i++) {
  const fresh = await httpClient(broker.url, { grant: true });
  freshNs.push(await timedList(fresh));
  await fresh.close();
}
const rssAfterKiB = procStatusKiB(broker.pid);
// The broker keeps finished SSE streams (their events) for a while so that a client can resume
// them: after that window (--settle seconds), the same lists again show whether the memory is
// reused (RSS flat) or keeps growing.
log(`idle for ${settleS} s, then ${repeat} lists again`);
await new Promise((r) => setTimeout(r, settleS * 1000));
const again = await httpClient(broker.url, { grant: true });
for (let i = 0; i < repeat; i++) await timedList(again);
await again.close();
const rssAgainKiB = procStatusKiB(broker.pid);
const directNs = [];
for (let i = 0; i < 3; i++) directNs.push(await directListAll());
const hwmKiB = procStatusKiB(broker.pid, 'VmHWM');
await broker.stop();
await upstreams.stop();

const round = (x) => Math.round(x * 10) / 10;
const result = {
  servers: serverCount,
  toolsPerServer: toolCount,
  tools: serverCount * toolCount,
  readyMs: round(readyMs),
  firstListMs: round(firstNs / 1e6),
  warmList: summarize(warmNs),
  brokerCpuPerWarmListMs: Math.round(brokerCpuPerListMs),
  freshSessionList: summarize(freshNs),
  pagesPerList: pages,
  page: summarize(pageNs),
  directListAllUpstreams: summarize(directNs),
  rssReadyMiB: mib(rssReadyKiB),
  rssAfterMiB: mib(rssAfterKiB),
  settleSeconds: settleS,
  rssAfterSettleAndListsAgainMiB: mib(rssAgainKiB),
  // VmRSS after the first list and after each warm list on the same session: flat or growing.
  rssAfterEachWarmListMiB: rssAfterEachListKiB.map(mib),
  peakRssMiB: mib(hwmKiB),
};
writeResult('scale', result);
work.cleanup();

printTable(
  ['measure', 'value'],
  [
    ['upstreams × tools', `${serverCount} × ${toolCount} = ${result.tools}`],
    ['spawn → all catalogs ready (ms)', result.readyMs],
    ['first tools/list (ms)', result.firstListMs],
    [`warm tools/list p50 / p99 (ms, n=${repeat})`, `${result.warmList.p50} / ${result.warmList.p99}`],
    ['broker CPU per warm tools/list (ms)', result.brokerCpuPerWarmListMs],
    ['tools/list on a new session p50 (ms)', result.freshSessionList.p50],
    [`one page of ${Math.ceil(result.tools / result.pagesPerList)} tools p50 / p99 (ms)`, `${result.page.p50} / ${result.page.p99}`],
    [`direct: a session + tools/list on each of the ${serverCount} upstreams, p50 (ms)`, result.directListAllUpstreams.p50],
    ['broker RSS when ready (MiB)', result.rssReadyMiB],
    ['broker RSS after the lists (MiB)', result.rssAfterMiB],
    [`broker RSS after ${settleS} s idle and ${repeat} lists again (MiB)`, result.rssAfterSettleAndListsAgainMiB],
    ['broker peak RSS, VmHWM (MiB)', result.peakRssMiB],
  ],
);
