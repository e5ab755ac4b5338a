#!/usr/bin/env node
// Load driver: many real MCP clients (SDK Client + StreamableHTTPClientTransport, one session
// each, all in this process) doing mixed calls through the broker's aggregated endpoint for a
// bounded time, checking every answer against the request it belongs to.
//
//   node load-clients.mjs URL --oauth NAME --plain NAME [--clients N] [--seconds S]
//                         [--warmup-seconds W] [--timeout-ms T] < tokens
//
// stdin: exactly N local grant tokens (`mcp-broker grant create`), one per line; client i
// sends "Authorization: Bearer <token i>". Tokens come on stdin so that they are on no command
// line and in no environment; they are never printed.
//
// --oauth NAME: the broker's server NAME is oauth-protected-server.mjs started with --name NAME
// (tools echo, whoami). --plain NAME: the broker's server NAME is fixture-server.mjs started
// with --name NAME (tools echo and json_schema_2020_12_tool, resource template
// test://template/{id}/data, prompt test_prompt_with_arguments). Defaults: N 64, S 25, W 5,
// T 30000.
//
// Each client cycles through seven operations (client i starts at operation i mod 7, so every
// kind is in flight at once), one request at a time, each with arguments unique to the call
// ("c<client>-<n>") that the answer must echo: NAME__echo and NAME__whoami {tag} on the OAuth
// upstream, NAME__echo and NAME__json_schema_2020_12_tool on the plain one, tools/list (must
// list the same tools every time), resources/read of NAME+test://template/<id>/data, prompts/get
// NAME__test_prompt_with_arguments. A JSON-RPC error, an isError result, a timeout or an answer
// that does not match its request is a failure.
//
// Stdout, one line each, as the run goes: "CONNECTED <n>" once every session is open,
// "WARM <epoch ms>" when the warm-up (W seconds of the same calls) ends, "DONE <epoch ms>" when
// the measured phase (S seconds) ends and every client's last call has come back; then,
// after the sessions ended (DELETE), one JSON object:
//   {clients, seconds, warmupSeconds, startedAtMs, connectedAtMs, warmAtMs, doneAtMs,
//    sent, ok, mismatched, errors, lost, measured: {calls, seconds, callsPerSecond, latencyMs},
//    byOperation: {op: {sent, ok, mismatched, errors}}, perClient: [{sent, ok, mismatched, errors}],
//    accessTokens: {distinct}, failures: [first 20 {client, op, id, kind, error}]}
// `ok`: the answer matched its request; `mismatched`: an answer that did not; `errors`: a
// JSON-RPC error, isError, a timeout or a broken connection; `lost` = sent − the three (calls
// still unanswered when the watchdog gave up). `accessTokens.distinct`: the access-token
// fingerprints the OAuth upstream's whoami reported. Exit 0 when every call was answered
// correctly (ok = sent), 1 otherwise (the JSON is printed either way), 2 on a usage error.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseArgs } from 'node:util';

const USAGE = `usage: load-clients.mjs URL --oauth NAME --plain NAME [--clients N] [--seconds S]
  [--warmup-seconds W] [--timeout-ms T] < tokens (one per line)
`;

function die(message, code = 1) {
  process.stderr.write(`load-clients: ${message}\n`);
  process.exit(code);
}

let opts;
let positionals;
try {
  ({ values: opts, positionals } = parseArgs({
    options: {
      oauth: { type: 'string' },
      plain: { type: 'string' },
      clients: { type: 'string', default: '64' },
      seconds: { type: 'string', default: '25' },
      'warmup-seconds': { type: 'string', default: '5' },
      'timeout-ms': { type: 'string', default: '30000' },
    },
    allowPositionals: true,
    strict: true,
  }));
} catch (e) {
  die(`${e.message}\n${USAGE}`, 2);
}
if (positionals.length !== 1 || !URL.canParse(positionals[0])) die(USAGE, 2);
if (!opts.oauth || !opts.plain) die(`--oauth and --plain are required\n${USAGE}`, 2);
const endpoint = new URL(positionals[0]);
const CLIENTS = Number(opts.clients);
const SECONDS = Number(opts.seconds);
const WARMUP_SECONDS = Number(opts['warmup-seconds']);
const TIMEOUT_MS = Number(opts['timeout-ms']);
if (!Number.isInteger(CLIENTS) || CLIENTS < 1) die('--clients must be a positive integer', 2);
if (!(SECONDS > 0) || !(WARMUP_SECONDS >= 0) || !(TIMEOUT_MS > 0)) die('bad --seconds, --warmup-seconds or --timeout-ms', 2);

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const tokens = Buffer.concat(chunks).toString('utf8').split('\n').map((t) => t.trim()).filter(Boolean);
if (tokens.length !== CLIENTS) die(`stdin has ${tokens.length} tokens, --clients says ${CLIENTS}`, 2);

// ---------------------------------------------------------------- operations
const OAUTH = opts.oauth;
const PLAIN = opts.plain;
const firstText = (blocks) => (blocks ?? []).find((b) => b.type === 'text')?.text;
const accessTokens = new Set();
let toolNames; // the first tools/list answer, sorted: every later one must equal it

class Mismatch extends Error {}
const expect = (ok, what) => {
  if (!ok) throw new Mismatch(what);
};
const toolText = (result) => {
  if (result.isError) throw new Error(`isError: ${String(firstText(result.content)).slice(0, 300)}`);
  return firstText(result.content);
};
const callTool = (client, name, args) => client.callTool({ name, arguments: args }, undefined, { timeout: TIMEOUT_MS });

// The JSON in an answer's text; a Mismatch when it is none.
const parsed = (text, what) => {
  try {
    return JSON.parse(text);
  } catch {
    throw new Mismatch(`${what} answered ${JSON.stringify(text)}`);
  }
};
// NAME__echo {text: id} on the upstream the broker calls NAME (started with --name NAME).
const echoOn = (server, kind) => ({
  name: `${kind} echo`,
  async run(client, id) {
    const text = toolText(await callTool(client, `${server}__echo`, { text: id }));
    expect(text === `${server}: ${id}`, `echo answered ${JSON.stringify(text)}`);
  },
});

const operations = [
  echoOn(OAUTH, 'oauth'),
  {
    name: 'oauth whoami',
    async run(client, id) {
      const who = parsed(toolText(await callTool(client, `${OAUTH}__whoami`, { tag: id })), 'whoami');
      expect(who.tag === id && who.server === OAUTH, `whoami answered tag ${who.tag} from ${who.server}`);
      if (typeof who.token === 'string') accessTokens.add(who.token); // a fingerprint
    },
  },
  echoOn(PLAIN, 'plain'),
  {
    name: 'plain json tool',
    async run(client, id) {
      const text = toolText(await callTool(client, `${PLAIN}__json_schema_2020_12_tool`, { name: id }));
      const wanted = `JSON Schema 2020-12 tool called with: ${JSON.stringify({ name: id })}`;
      expect(text === wanted, `json_schema_2020_12_tool answered ${JSON.stringify(text)}`);
    },
  },
  {
    name: 'tools/list',
    async run(client) {
      const page = await client.listTools({}, { timeout: TIMEOUT_MS });
      expect(page.nextCursor === undefined, 'tools/list has more than one page');
      const names = page.tools.map((t) => t.name).sort();
      toolNames ??= names;
      expect(names.join() === toolNames.join(), `tools/list answered ${names.length} tools, first ${toolNames.length}`);
      for (const tool of [`${OAUTH}__echo`, `${OAUTH}__whoami`, `${PLAIN}__echo`, `${PLAIN}__json_schema_2020_12_tool`]) {
        expect(names.includes(tool), `tools/list lacks ${tool}`);
      }
    },
  },
  {
    name: 'resources/read',
    async run(client, id) {
      const uri = `${PLAIN}+test://template/${id}/data`;
      const result = await client.readResource({ uri }, { timeout: TIMEOUT_MS });
      const content = result.contents?.[0];
      const data = parsed(content?.text, 'resources/read');
      expect(content.uri === uri && data.id === id, `resources/read of ${uri} answered ${content.uri} id ${data.id}`);
    },
  },
  {
    name: 'prompts/get',
    async run(client, id) {
      const result = await client.getPrompt(
        { name: `${PLAIN}__test_prompt_with_arguments`, arguments: { arg1: id, arg2: `${id}b` } },
        { timeout: TIMEOUT_MS },
      );
      const text = result.messages?.[0]?.content?.text;
      expect(text === `Prompt with arguments: arg1='${id}', arg2='${id}b'`, `prompts/get answered ${JSON.stringify(text)}`);
    },
  },
];

// ---------------------------------------------------------------- counters
// Per call: `ok` (the answer matches the request), `mismatched` (an answer, but not this call's),
// `errors` (a JSON-RPC error, isError, a timeout or a broken connection). A call counted in none
// of them is still in flight: at the end that means lost.
const blank = () => ({ sent: 0, ok: 0, mismatched: 0, errors: 0 });
const byOperation = Object.fromEntries(operations.map((o) => [o.name, blank()]));
const perClient = Array.from({ length: CLIENTS }, blank);
const failures = [];
const measuredLatencies = [];
let phase = 'warmup'; // then 'measured', then 'stopping'

async function oneCall(index, client, operation, id) {
  const counters = [perClient[index], byOperation[operation.name]];
  counters.forEach((c) => c.sent++);
  const started = process.hrtime.bigint();
  const measured = phase === 'measured';
  try {
    await operation.run(client, id);
    counters.forEach((c) => c.ok++);
    if (measured) measuredLatencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  } catch (e) {
    const kind = e instanceof Mismatch ? 'mismatched' : 'errors';
    counters.forEach((c) => c[kind]++);
    if (failures.length < 20) failures.push({ client: index, op: operation.name, id, kind, error: String(e?.message ?? e).slice(0, 500) });
  }
}

// ---------------------------------------------------------------- run
// Declared up front: the watchdog may report at any point.
const startedAtMs = Date.now();
let connectedAtMs;
let warmAtMs;
let doneAtMs;
let measuredStartNs;
let measuredSeconds = 0;
const sessions = await Promise.all(
  tokens.map(async (token, index) => {
    const client = new Client({ name: `load-client-${index}`, version: '1.0.0' }, { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(endpoint, {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    try {
      await client.connect(transport, { timeout: TIMEOUT_MS });
    } catch (e) {
      die(`client ${index} cannot connect to ${endpoint}: ${e.message}`);
    }
    return { client, transport };
  }),
);
tokens.length = 0;
connectedAtMs = Date.now();
process.stdout.write(`CONNECTED ${sessions.length}\n`);

const warmupEnd = Date.now() + WARMUP_SECONDS * 1000;
const end = warmupEnd + SECONDS * 1000;
const phaseTimer = setTimeout(() => {
  phase = 'measured';
  warmAtMs = Date.now();
  measuredStartNs = process.hrtime.bigint();
  process.stdout.write(`WARM ${warmAtMs}\n`);
}, warmupEnd - Date.now());

// A call that never ends would keep a client from finishing: after the deadline plus twice the
// per-call timeout, report what is known (unanswered calls count as lost) and fail.
const watchdog = setTimeout(() => report(1, 'gave up waiting for the last calls'), end - Date.now() + 2 * TIMEOUT_MS);
watchdog.unref();

await Promise.all(
  sessions.map(async ({ client }, index) => {
    for (let n = 0; Date.now() < end; n++) {
      await oneCall(index, client, operations[(index + n) % operations.length], `c${index}-${n}`);
    }
  }),
);
clearTimeout(phaseTimer);
phase = 'stopping';
doneAtMs = Date.now();
if (measuredStartNs !== undefined) measuredSeconds = Number(process.hrtime.bigint() - measuredStartNs) / 1e9;
process.stdout.write(`DONE ${doneAtMs}\n`);

await Promise.all(
  sessions.map(async ({ client, transport }) => {
    await transport.terminateSession().catch(() => {});
    await client.close().catch(() => {});
  }),
);
report(0);

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 100) / 100;
}

function report(code, why) {
  const total = blank();
  for (const c of perClient) for (const k of Object.keys(total)) total[k] += c[k];
  const lost = total.sent - total.ok - total.mismatched - total.errors;
  const latencies = [...measuredLatencies].sort((a, b) => a - b);
  const out = {
    clients: CLIENTS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    startedAtMs,
    connectedAtMs,
    warmAtMs,
    doneAtMs,
    ...total,
    lost,
    measured: {
      calls: latencies.length,
      seconds: Math.round(measuredSeconds * 100) / 100,
      callsPerSecond: measuredSeconds ? Math.round(latencies.length / measuredSeconds) : 0,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
    },
    byOperation,
    perClient,
    accessTokens: { distinct: accessTokens.size },
    failures,
  };
  if (why) out.error = why;
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(code === 0 && total.ok === total.sent ? 0 : 1);
}
