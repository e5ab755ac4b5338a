#!/usr/bin/env node
// An MCP upstream that hangs, for the broker's fault tests (tests/integration/tst_faults.cpp).
//
//   node hanging-upstream.mjs [--port N] [--hang-initialize]
//
// Streamable HTTP over node:http at http://127.0.0.1:<port>/mcp (port from --port, else
// $PORT, else 0 = ephemeral), answering in JSON (no SSE), one session id per initialize.
// Prints "LISTENING <port>" on stdout when ready, then one stdout line per event a test waits
// for:
//
//   HELD <method> <id>           a request it will never answer
//   CANCELLED <requestId> <reason>  a notifications/cancelled it received
//
// Normally it answers initialize, ping and tools/list, and tools/call of `echo {text}`; a
// tools/call of `hang` is accepted and never answered (a tool that never returns).
// --hang-initialize: it accepts every connection and request and answers none of them (a server
// that is up but stuck). GET (the standalone stream) is 405, DELETE 200. Logs go to stderr.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string' },
    'hang-initialize': { type: 'boolean', default: false },
  },
  strict: true,
});
const PORT = Number(opts.port ?? process.env.PORT ?? 0);
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  process.stderr.write(`hanging-upstream: bad port ${opts.port ?? process.env.PORT}\n`);
  process.exit(2);
}
const HANG_ALL = opts['hang-initialize'];
const SUPPORTED = ['2025-11-25', '2025-06-18', '2025-03-26'];

const say = (line) => process.stdout.write(`${line}\n`);
const log = (line) => process.stderr.write(`[hanging-upstream] ${line}\n`);
const held = new Set(); // responses never answered, kept so that nothing closes them

const TOOLS = [
  {
    name: 'hang',
    description: 'Never returns',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'echo',
    description: 'Echoes its text argument',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
  },
];

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function hold(res, message) {
  held.add(res);
  res.on('close', () => held.delete(res));
  say(`HELD ${message.method} ${JSON.stringify(message.id ?? null)}`);
}

function answer(message, res) {
  const { id, method, params = {} } = message;
  const result = (value) => sendJson(res, 200, { jsonrpc: '2.0', id, result: value });
  if (method === 'initialize') {
    const version = SUPPORTED.includes(params.protocolVersion) ? params.protocolVersion : SUPPORTED[0];
    sendJson(
      res,
      200,
      {
        jsonrpc: '2.0',
        id,
        result: {
          protocolVersion: version,
          capabilities: { tools: {} },
          serverInfo: { name: 'hanging-upstream', version: '1.0.0' },
        },
      },
      { 'Mcp-Session-Id': randomUUID() },
    );
    return;
  }
  if (method === 'ping') return result({});
  if (method === 'tools/list') return result({ tools: TOOLS });
  if (method === 'tools/call' && params.name === 'hang') return hold(res, message);
  if (method === 'tools/call' && params.name === 'echo')
    return result({ content: [{ type: 'text', text: `hanging-upstream: ${params.arguments?.text ?? ''}` }] });
  sendJson(res, 200, { jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname !== '/mcp') return sendJson(res, 404, { error: 'not found' });
  if (req.method === 'GET') return sendJson(res, 405, { error: 'no standalone stream' });
  if (req.method === 'DELETE') return sendJson(res, 200, {});
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let message;
    try {
      message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    }
    if (HANG_ALL) return hold(res, message);
    if (message.id === undefined) {
      // A notification (or a response): accepted.
      if (message.method === 'notifications/cancelled') {
        const { requestId, reason } = message.params ?? {};
        say(`CANCELLED ${JSON.stringify(requestId ?? null)} ${reason ?? ''}`);
      }
      res.writeHead(202);
      res.end();
      return;
    }
    answer(message, res);
  });
});

server.listen(PORT, '127.0.0.1', () => {
  const { port } = server.address();
  log(`listening on ${port}${HANG_ALL ? ' (answering nothing)' : ''}`);
  say(`LISTENING ${port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    for (const res of held) res.destroy();
    server.close(() => process.exit(0));
  });
}
