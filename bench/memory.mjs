#!/usr/bin/env node
// Memory and start-up of the broker, three ways:
//   serve, no servers     `mcp-broker serve` with an empty config
//   serve, 1 upstream     `mcp-broker serve` with tests/peers/fixture-server.mjs configured
//   tray, 1 upstream      `mcp-broker tray` on Xvfb with a tray host (tests/desktop/with-desktop.sh)
// Each is started --runs times on a free port chosen beforehand. Start-up: from spawn to the
// first GET /status answered 200 (polled every millisecond or so). Idle RSS: VmRSS from
// /proc/<pid>/status once it is ready (its upstream, if any, connected) and then left idle
// for --idle seconds.
//
//   bench/memory.mjs [--runs N] [--idle S]        (defaults 5, 2)
//
// Writes bench/results/memory.json.

import http from 'node:http';
import net from 'node:net';
import {
  BrokerHome, brokerBinary, enterHarness, log, makeWorkDir, median, mib, numberOption, printTable,
  Proc, procStatusKiB, startFixture, waitUntilReady, writeResult,
} from './lib/common.mjs';

enterHarness(import.meta.url, { desktop: true });

const runs = numberOption('runs', 5);
const idleS = numberOption('idle', 2);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// One GET /status: true when answered 200.
function statusAnswers(port) {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/status', agent: false, timeout: 2000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200));
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

async function measureOnce(home, command, servers) {
  const port = await freePort();
  const proc = new Proc(`broker-${command}`, brokerBinary, [command, '--port', String(port)], {
    env: home.env(),
    logDir: home.workDir,
  });
  const deadline = Date.now() + 30000;
  while (!(await statusAnswers(port))) {
    if (proc.exited || Date.now() > deadline) throw proc.failure(`${command} never answered GET /status`);
    await new Promise((r) => setTimeout(r, 1));
  }
  const startupMs = Number(process.hrtime.bigint() - proc.startedNs) / 1e6;
  if (servers > 0) await waitUntilReady(`http://127.0.0.1:${port}/status`, servers);
  await new Promise((r) => setTimeout(r, idleS * 1000));
  const rssKiB = procStatusKiB(proc.pid);
  const anonKiB = procStatusKiB(proc.pid, 'RssAnon');
  const fileKiB = procStatusKiB(proc.pid, 'RssFile');
  // The tray app says so on stderr when it found no tray host and shows a window instead.
  const statusWindow = proc.errText.includes('No system tray was found');
  await proc.stop();
  return { startupMs, rssKiB, anonKiB, fileKiB, statusWindow };
}

const work = makeWorkDir('memory');
const fixture = await startFixture(work.dir);
const empty = new BrokerHome(work.dir, 'empty-config.json');
const withServer = new BrokerHome(work.dir);
await withServer.add('fx', fixture.url);

const cases = [
  { name: 'serve, no servers', home: empty, command: 'serve', servers: 0, rssTargetMiB: 25 },
  { name: 'serve, 1 upstream', home: withServer, command: 'serve', servers: 1, rssTargetMiB: 25 },
  { name: 'tray, 1 upstream', home: withServer, command: 'tray', servers: 1, rssTargetMiB: 60 },
];
const results = [];
for (const c of cases) {
  log(`${c.name}: ${runs} runs`);
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await measureOnce(c.home, c.command, c.servers));
  const startups = samples.map((s) => s.startupMs);
  const rss = samples.map((s) => s.rssKiB);
  results.push({
    case: c.name,
    runs,
    startupMs: { median: Math.round(median(startups) * 10) / 10, max: Math.round(Math.max(...startups) * 10) / 10 },
    idleRssMiB: { median: mib(median(rss)), max: mib(Math.max(...rss)) },
    // Of which: heap and other private memory, and pages of mapped files (code of the binary
    // and of Qt and the other libraries, shared with other processes that map them).
    rssAnonMiB: mib(median(samples.map((s) => s.anonKiB))),
    rssFileMiB: mib(median(samples.map((s) => s.fileKiB))),
    ...(c.command === 'tray' ? { trayIconShown: samples.every((s) => !s.statusWindow) } : {}),
    targets: {
      startupUnder300ms: median(startups) < 300,
      [`idleRssUnder${c.rssTargetMiB}MiB`]: mib(median(rss)) < c.rssTargetMiB,
    },
  });
}
await fixture.stop();
writeResult('memory', { idleSeconds: idleS, results });
work.cleanup();

printTable(
  ['case', 'runs', 'start-up median ms', 'start-up max ms', 'idle RSS median MiB', 'idle RSS max MiB', 'anon / file MiB', 'targets'],
  results.map((r) => [
    r.case, r.runs, r.startupMs.median, r.startupMs.max, r.idleRssMiB.median, r.idleRssMiB.max, `${r.rssAnonMiB} / ${r.rssFileMiB}`,
    Object.entries(r.targets).map(([t, met]) => `${t} ${met ? 'MET' : 'MISSED'}`).join(', '),
  ]),
);
