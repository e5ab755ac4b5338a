#!/usr/bin/env node
// Many upstream MCP servers in one process, for the scale benchmark: --servers Streamable HTTP
// servers (the SDK's low-level Server + StreamableHTTPServerTransport over node:http, stateful
// sessions), each on its own ephemeral 127.0.0.1 port at /mcp, each with --tools tools named
// tool_000, tool_001, … with a small JSON Schema (two properties) and a description of a
// realistic length. Calling any tool echoes its `text` argument prefixed with the server name.
//
//   node many-tools-server.mjs [--servers N] [--tools N]       (defaults 50, 100)
//
// When every server listens it prints one line on stdout: `LISTENING <port> <port> …` (in
// server order: s00, s01, …). Logs go to stderr. SIGTERM/SIGINT stop it.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Server } from '../../tests/peers/node_modules/@modelcontextprotocol/sdk/dist/esm/server/index.js';
import { StreamableHTTPServerTransport } from '../../tests/peers/node_modules/@modelcontextprotocol/sdk/dist/esm/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  isInitializeRequest,
} from '../../tests/peers/node_modules/@modelcontextprotocol/sdk/dist/esm/types.js';

const { values: opts } = parseArgs({
  options: {
    servers: { type: 'string', default: '50' },
    tools: { type: 'string', default: '100' },
  },
  strict: true,
});
const serverCount = Number(opts.servers);
const toolCount = Number(opts.tools);
if (!(serverCount > 0 && toolCount > 0)) {
  process.stderr.write('usage: many-tools-server.mjs [--servers N] [--tools N]\n');
  process.exit(2);
}

const log = (message) => process.stderr.write(`[many-tools] ${message}\n`);

function toolsOf(serverName) {
  return Array.from({ length: toolCount }, (_, i) => ({
    name: `tool_${String(i).padStart(3, '0')}`,
    description: `Tool ${i} of ${serverName}: echoes its text argument; stands for one operation of a typical SaaS API (list, get, create, update).`,
    inputSchema: {
      type: 'object',
      properties: {
        text: { type: 'string', description: 'Text to echo back' },
        limit: { type: 'integer', description: 'Maximum number of items', minimum: 1, maximum: 100 },
      },
      required: ['text'],
    },
    annotations: { readOnlyHint: true },
  }));
}

function mcpServer(serverName, tools) {
  const server = new Server({ name: serverName, version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => ({
    content: [{ type: 'text', text: `${serverName}: ${request.params.arguments?.text ?? ''}` }],
  }));
  return server;
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
}

function startHttpServer(serverName) {
  const tools = toolsOf(serverName);
  const sessions = new Map(); // Mcp-Session-Id → transport
  const httpServer = http.createServer(async (req, res) => {
    try {
      if (new URL(req.url, 'http://localhost').pathname !== '/mcp') {
        res.writeHead(404).end();
        return;
      }
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      const sessionId = req.headers['mcp-session-id'];
      let transport = sessionId ? sessions.get(sessionId) : undefined;
      if (!transport) {
        if (sessionId || req.method !== 'POST' || !isInitializeRequest(body)) {
          res.writeHead(sessionId ? 404 : 400, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'No such session' }, id: null }));
          return;
        }
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => sessions.set(id, transport),
        });
        transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
        await mcpServer(serverName, tools).connect(transport);
      }
      await transport.handleRequest(req, res, body);
    } catch (error) {
      log(`${serverName}: ${error.message}`);
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', () => resolve(httpServer));
  });
}

const servers = [];
for (let i = 0; i < serverCount; i++) servers.push(await startHttpServer(`s${String(i).padStart(2, '0')}`));
process.stdout.write(`LISTENING ${servers.map((s) => s.address().port).join(' ')}\n`);
log(`${serverCount} servers with ${toolCount} tools each`);

const stop = () => {
  for (const server of servers) server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
