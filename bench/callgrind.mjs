#!/usr/bin/env node
// CPU cost per proxied tools/call as an instruction count, the figure that does not move with
// the machine's load: the broker runs under `valgrind --tool=callgrind` twice, doing the same
// things (start, upstream ready, one client session with initialize and tools/list, stop on
// SIGTERM) except that the second run also proxies --calls tools/call (echo on
// tests/peers/fixture-server.mjs, which lists 17 tools). Instructions per call = (Ir with N
// calls − Ir with 0) / N. With --upstream-tools N the upstream is instead one server of
// bench/peers/many-tools-server.mjs with N tools (tool_000 is called): how the cost of a call
// depends on the size of the upstream's catalog.
//
//   bench/callgrind.mjs [--calls N] [--upstream-tools N]   (default 300; needs valgrind: bench/setup.sh)
//
// Writes bench/results/callgrind.json (callgrind-<N>tools.json) and, next to it,
// callgrind-top.txt (callgrind-<N>tools-top.txt): per call, the functions with the highest own
// cost and the broker's functions with the highest inclusive cost (callgrind_annotate).

import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  benchDir, BrokerHome, brokerBinary, die, enterHarness, httpClient, listAllTools, log, makeWorkDir,
  node22, numberOption, printTable, Proc, resultsDir, startFixture, timedCall, waitUntilReady, writeResult,
} from './lib/common.mjs';

enterHarness(import.meta.url);

const calls = numberOption('calls', 300);
const upstreamTools = numberOption('upstream-tools', 0);
const resultName = upstreamTools ? `callgrind-${upstreamTools}tools` : 'callgrind';
let valgrind;
try {
  valgrind = execFileSync('sh', ['-c', 'command -v valgrind'], { encoding: 'utf8' }).trim();
} catch {
  die('valgrind is not installed: run bench/setup.sh first.');
}

const work = makeWorkDir('callgrind');
let upstream;
let tool = 'fx__echo';
if (upstreamTools) {
  upstream = new Proc('many-tools', node22, [join(benchDir, 'peers/many-tools-server.mjs'), '--servers', '1', '--tools', String(upstreamTools)], { logDir: work.dir });
  const [, port] = await upstream.waitForLine(/^LISTENING (\d+)$/);
  upstream.url = `http://127.0.0.1:${port}/mcp`;
  tool = 'fx__tool_000';
} else {
  upstream = await startFixture(work.dir);
}
const home = new BrokerHome(work.dir);
await home.add('fx', upstream.url);
await home.createGrant();

// Total instructions (Ir) of a callgrind output file.
function totalIr(path) {
  const text = readFileSync(path, 'utf8');
  const match = text.match(/^(?:summary|totals):\s+(\d+)/m);
  if (!match) throw new Error(`no totals in ${path}`);
  return Number(match[1]);
}

async function measure(n) {
  const out = join(work.dir, `callgrind-${n}.out`);
  log(`callgrind run with ${n} calls`);
  const broker = await home.serve({
    command: valgrind,
    prefix: ['--tool=callgrind', `--callgrind-out-file=${out}`, brokerBinary],
    name: `broker-callgrind-${n}`,
    timeoutMs: 180000,
  });
  await waitUntilReady(broker.statusUrl, 1, { timeoutMs: 180000 });
  const session = await httpClient(broker.url, { grant: true });
  await listAllTools(session.client);
  for (let i = 0; i < n; i++) await timedCall(session.client, tool, { text: 'bench' });
  await session.close();
  await broker.stop();
  return { ir: totalIr(out), out };
}

const zero = await measure(0);
const withCalls = await measure(calls);
await upstream.stop();

const perCall = Math.round((withCalls.ir - zero.ir) / calls);

// Ir per function (own cost, or inclusive) of a callgrind output file, by callgrind_annotate.
function functionCosts(path, inclusive) {
  const text = execFileSync('callgrind_annotate', ['--auto=no', `--inclusive=${inclusive ? 'yes' : 'no'}`, '--threshold=100', path], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  const costs = new Map();
  for (const line of text.split('\n')) {
    const match = line.match(/^\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$/);
    if (match && match[2] !== 'PROGRAM TOTALS') costs.set(match[2], (costs.get(match[2]) ?? 0) + Number(match[1].replaceAll(',', '')));
  }
  return costs;
}

// A function's name without its file and library, and with the long template names shortened
// (callgrind_annotate lists a function once per file its code came from: those merge here).
function shortName(name) {
  return name
    .replace(/^(?:\?\?\?|[^\s:]+\.(?:cpp|c|h|hpp|tcc|S)|[^\s:]*\/[^\s:]*):(?!:)/, '')
    .replace(/ \[[^\]]*\]$/, '')
    .replaceAll(/nlohmann::json_abi_v3_11_2::basic_json<std::map, std::vector, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >, bool, long, unsigned long, double, std::allocator, nlohmann::json_abi_v3_11_2::adl_serializer, std::vector<unsigned char, std::allocator<unsigned char> > >/g, 'json')
    .replaceAll('std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >', 'std::string')
    .replaceAll('nlohmann::json_abi_v3_11_2::', 'nlohmann::')
    .slice(0, 180);
}

// What one call costs, function by function: (cost with N calls − cost without) / N.
function perCallTop(inclusive, count, filter = () => true) {
  const merge = (costs) => {
    const merged = new Map();
    for (const [name, ir] of costs) {
      const key = shortName(name);
      merged.set(key, Math.max(merged.get(key) ?? 0, ir));
    }
    return merged;
  };
  const base = merge(functionCosts(zero.out, inclusive));
  return [...merge(functionCosts(withCalls.out, inclusive))]
    .filter(([name]) => filter(name))
    .map(([name, ir]) => [name, Math.round((ir - (base.get(name) ?? 0)) / calls)])
    .sort((a, b) => b[1] - a[1])
    .slice(0, count);
}
const format = (rows) => rows.map(([name, ir]) => `${String(ir.toLocaleString('en')).padStart(12)}  ${name}`).join('\n');
writeFileSync(
  join(resultsDir, `${resultName}-top.txt`),
  `Instructions per tools/call: ${perCall.toLocaleString('en')} ((Ir with ${calls} calls − Ir without) / ${calls})\n\n` +
    `Own cost per call, top 40 functions:\n${format(perCallTop(false, 40))}\n\n` +
    `Inclusive cost per call, the broker's own functions (mcpbroker::), top 40:\n` +
    `${format(perCallTop(true, 40, (name) => name.startsWith('mcpbroker::') || name.includes(' mcpbroker::')))}\n`,
);
writeResult(resultName, { upstreamTools: upstreamTools || 17, calls, irWithoutCalls: zero.ir, irWithCalls: withCalls.ir, instructionsPerCall: perCall });
if (process.argv.includes('--keep')) {
  copyFileSync(zero.out, join(resultsDir, `${resultName}-0.out`));
  copyFileSync(withCalls.out, join(resultsDir, `${resultName}-${calls}.out`));
}
work.cleanup();

printTable(
  ['run', 'tools/call', 'instructions (Ir)'],
  [
    ['without calls', 0, zero.ir.toLocaleString('en')],
    ['with calls', calls, withCalls.ir.toLocaleString('en')],
    ['per call', 1, perCall.toLocaleString('en')],
  ],
);
