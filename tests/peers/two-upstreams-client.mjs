#!/usr/bin/env node
// A real downstream MCP client (SDK Client + StreamableHTTPClientTransport)
// for driving the broker's aggregated endpoint from tests.
//
//   node two-upstreams-client.mjs URL [--header 'K: V']... [--call NAME [--args JSON]]...
//                                 [--timeout-ms N] [--allow-tool-error]
//
// Connects to URL, lists every tool (following nextCursor), calls each --call
// in order with the JSON object given by the --args after it (default {}),
// and prints one JSON object to stdout:
//   { "tools": [names...], "calls": { "NAME": <CallToolResult>, ... } }
// (a tool called more than once gets keys NAME, NAME#2, ...).
// Exits 1 with a message on stderr on any error: connection, listing, a
// JSON-RPC error, a call whose tool is not listed, or a result with
// isError: true (unless --allow-tool-error; the JSON is printed either way
// once all calls have run). Exit 2 = usage error.
//
// With MCPB_AUTHORIZATION_TOKEN in the environment it sends
// "Authorization: Bearer <that token>" on every request (the broker's grant; the environment,
// not the command line, so that the token shows in no process listing), unless a --header
// gives an Authorization of its own.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const USAGE =
  "usage: two-upstreams-client.mjs URL [--header 'K: V']... [--call NAME [--args JSON]]... [--timeout-ms N] [--allow-tool-error]";

function die(message, code = 1) {
  process.stderr.write(`two-upstreams-client: ${message}\n`);
  process.exit(code);
}

// ---- arguments (hand-parsed: --args binds to the --call before it)
let url;
const headers = {};
const calls = [];
let timeoutMs = 30000;
let allowToolError = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => {
    if (i + 1 >= argv.length) die(`${a} needs a value\n${USAGE}`, 2);
    return argv[++i];
  };
  if (a === '--header') {
    const h = next();
    const colon = h.indexOf(':');
    if (colon <= 0) die(`bad --header '${h}': want 'Name: value'`, 2);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  } else if (a === '--call') {
    calls.push({ name: next(), args: {} });
  } else if (a === '--args') {
    if (calls.length === 0) die('--args must follow a --call', 2);
    const text = next();
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      die(`--args for ${calls.at(-1).name} is not JSON: ${e.message}`, 2);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      die(`--args for ${calls.at(-1).name} must be a JSON object`, 2);
    }
    calls.at(-1).args = parsed;
  } else if (a === '--timeout-ms') {
    timeoutMs = Number(next());
    if (!(timeoutMs > 0)) die('--timeout-ms must be a positive number', 2);
  } else if (a === '--allow-tool-error') {
    allowToolError = true;
  } else if (a === '-h' || a === '--help') {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  } else if (a.startsWith('-')) {
    die(`unknown option ${a}\n${USAGE}`, 2);
  } else if (url === undefined) {
    url = a;
  } else {
    die(`unexpected argument ${a}\n${USAGE}`, 2);
  }
}
if (url === undefined) die(USAGE, 2);
let endpoint;
try {
  endpoint = new URL(url);
} catch {
  die(`not a URL: ${url}`, 2);
}

const grant = process.env.MCPB_AUTHORIZATION_TOKEN;
if (grant && !Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
  headers.Authorization = `Bearer ${grant}`;
}

// ---- run
const client = new Client({ name: 'two-upstreams-client', version: '1.0.0' }, { capabilities: {} });
const transport = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers } });
const opts = { timeout: timeoutMs };

// A hard stop, in case a stream hangs outside any request timeout.
const watchdog = setTimeout(
  () => die(`gave up after ${timeoutMs * (calls.length + 2)} ms`),
  timeoutMs * (calls.length + 2),
);
watchdog.unref();

const errorText = (r) =>
  (r.content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join(' ')
    .slice(0, 500) || '(no text)';

let failure;
const out = { tools: [], calls: {} };
try {
  try {
    await client.connect(transport, opts);
  } catch (e) {
    throw new Error(`cannot connect to ${url}: ${e.message}`);
  }

  let cursor;
  const seen = new Set();
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor }, opts);
    out.tools.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
    if (cursor !== undefined) {
      if (seen.has(cursor)) throw new Error(`tools/list returned cursor ${JSON.stringify(cursor)} twice`);
      seen.add(cursor);
    }
  } while (cursor !== undefined);

  for (const { name, args } of calls) {
    if (!out.tools.includes(name)) {
      throw new Error(`tool '${name}' is not listed (tools: ${out.tools.join(', ') || 'none'})`);
    }
    let key = name;
    for (let n = 2; key in out.calls; n++) key = `${name}#${n}`;
    let result;
    try {
      result = await client.callTool({ name, arguments: args }, undefined, opts);
    } catch (e) {
      throw new Error(`calling ${name}: ${e.message}`);
    }
    out.calls[key] = result;
    if (result.isError && !allowToolError && failure === undefined) {
      failure = `tool ${name} returned isError: ${errorText(result)}`;
    }
  }
} catch (e) {
  failure = e.message;
  out.error = failure;
}

try {
  await transport.terminateSession();
} catch {
  // The server may not support DELETE; nothing to do.
}
await client.close().catch(() => {});

process.stdout.write(JSON.stringify(out, null, 2) + '\n');
if (failure !== undefined) die(failure);
process.exit(0);
