#!/usr/bin/env node
// The summary table of the last benchmark results (bench/results/*.json), with each target
// and whether it was met. Plain text by default; --markdown for bench/README.md.
//
//   bench/summary.mjs [--markdown]

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// A reader that stops early (`| head`) is no error.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const results = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
const markdown = process.argv.includes('--markdown');

function load(name) {
  const path = join(results, `${name}.json`);
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}
const verdict = (met) => (met === undefined ? '' : met ? 'met' : 'MISSED');

const rows = []; // [measure, value, target, verdict]
const latency = load('latency');
if (latency) {
  const { stats, added } = latency;
  for (const path of ['direct', 'broker', 'mcp-remote']) {
    rows.push([`tools/call ${path}: p50 / p99 ms (n=${stats[path].n})`, `${stats[path].p50} / ${stats[path].p99}`, '', '']);
  }
  rows.push(['broker adds, p50 ms', added.broker.p50, '< 0.3', verdict(added.broker.p50 < 0.3)]);
  rows.push(['broker adds, p99 ms', added.broker.p99, '< 2', verdict(added.broker.p99 < 2)]);
  rows.push(['mcp-remote adds, p50 / p99 ms', `${added['mcp-remote'].p50} / ${added['mcp-remote'].p99}`, '', '']);
  if (added['tcp-relay']) {
    rows.push(['a bare TCP relay adds, p50 / p99 ms (the floor of any hop)', `${added['tcp-relay'].p50} / ${added['tcp-relay'].p99}`, '', '']);
  }
  rows.push(['broker adds less than mcp-remote (p50, p99)', `${added.broker.p50} vs ${added['mcp-remote'].p50}, ${added.broker.p99} vs ${added['mcp-remote'].p99}`, 'below',
    verdict(added.broker.p50 < added['mcp-remote'].p50 && added.broker.p99 < added['mcp-remote'].p99)]);
}
const noDelay = load('latency-nodelay');
if (noDelay) {
  const { added } = noDelay;
  // The broker sets TCP_NODELAY itself: with the preload this is just a second run.
  rows.push([`second run (--preload-nodelay): broker adds p50 / p99 ms (n=${noDelay.stats.broker.n})`, `${added.broker.p50} / ${added.broker.p99}`, '< 0.3 / < 2', verdict(added.broker.p50 < 0.3 && added.broker.p99 < 2)]);
  rows.push(['second run: mcp-remote adds p50 / p99 ms', `${added['mcp-remote'].p50} / ${added['mcp-remote'].p99}`, '', '']);
}
const throughput = load('throughput');
if (throughput) {
  for (const r of throughput.results) {
    rows.push([`${r.target}, ${r.clients} client(s): calls/s, p50 / p99 ms`, `${r.callsPerSecond}, ${r.latency.p50} / ${r.latency.p99}`, '', '']);
  }
  const brokerCpu = throughput.results.filter((r) => r.target === 'broker').map((r) => `${r.cpuPerCallMs.broker}`);
  rows.push(['broker CPU ms per call (1, 8, 64 clients)', brokerCpu.join(', '), '', '']);
}
const throughputNoDelay = load('throughput-nodelay');
if (throughputNoDelay) {
  const cells = throughputNoDelay.results.filter((r) => r.target === 'broker').map((r) => `${r.clients}: ${r.callsPerSecond}`);
  rows.push(['second run (--preload-nodelay): calls/s by clients', cells.join(', '), '', '']);
}
const callgrind = load('callgrind');
if (callgrind) rows.push([`broker instructions per tools/call (callgrind), upstream with ${callgrind.upstreamTools} tools`, callgrind.instructionsPerCall.toLocaleString('en'), '', '']);
const callgrind100 = load('callgrind-100tools');
if (callgrind100) rows.push([`broker instructions per tools/call (callgrind), upstream with ${callgrind100.upstreamTools} tools`, callgrind100.instructionsPerCall.toLocaleString('en'), '', '']);
const scale = load('scale');
if (scale) {
  rows.push([`${scale.servers} × ${scale.toolsPerServer} tools: spawn → catalogs ready, ms`, scale.readyMs, '', '']);
  rows.push([`${scale.tools} tools: first tools/list, ms`, scale.firstListMs, '', '']);
  rows.push([`${scale.tools} tools: warm tools/list p50 / p99, ms`, `${scale.warmList.p50} / ${scale.warmList.p99}`, '', '']);
  rows.push([`${scale.tools} tools: broker RSS ready / after ${scale.warmList.n + scale.freshSessionList.n + 1} lists / after ${scale.settleSeconds} s idle and ${scale.warmList.n} lists again, MiB`, `${scale.rssReadyMiB} / ${scale.rssAfterMiB} / ${scale.rssAfterSettleAndListsAgainMiB}`, '', '']);
}
const memory = load('memory');
if (memory) {
  for (const r of memory.results) {
    const rssTarget = r.case.startsWith('tray') ? 60 : 25;
    rows.push([`${r.case}: idle RSS MiB (median of ${r.runs})`, r.idleRssMiB.median, `< ${rssTarget}`, verdict(r.idleRssMiB.median < rssTarget)]);
    rows.push([`${r.case}: spawn → first GET /status, ms (median, max)`, `${r.startupMs.median}, ${r.startupMs.max}`, '< 300', verdict(r.startupMs.median < 300)]);
  }
}
if (rows.length === 0) {
  process.stderr.write('bench/summary: no results yet in bench/results: run bench/run-all.sh.\n');
  process.exit(1);
}

const header = ['measure', 'value', 'target', 'verdict'];
const all = [latency, throughput, callgrind, callgrind100, scale, memory, noDelay, throughputNoDelay].filter(Boolean);
const first = all.reduce((a, b) => (a.machine.started < b.machine.started ? a : b)).machine;
const last = all.reduce((a, b) => (a.machine.date > b.machine.date ? a : b)).machine;
if (markdown) {
  process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
} else {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => String(row[i]).length)));
  const line = (row) => row.map((cell, i) => String(cell).padEnd(widths[i])).join('  ').trimEnd();
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}
process.stdout.write(
  `\n(${first.cpu}, ${first.cores} cores, ${first.memoryGiB} GiB, Linux ${first.kernel}, Node ${first.node}; ` +
    `${first.started} to ${last.date}; load average (1, 5, 15 min) ${first.loadAverageAtStart.join(' ')} at the start, ` +
    `${last.loadAverage.join(' ')} at the end)\n`,
);
