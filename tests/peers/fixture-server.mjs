#!/usr/bin/env node
// Fixture upstream MCP server for the broker's integration tests.
//
// A real MCP server built with @modelcontextprotocol/sdk (McpServer +
// StreamableHTTPServerTransport over node:http). It implements every fixture
// tool, resource and prompt that the server scenarios of
// @modelcontextprotocol/conformance@0.1.16 call, so the whole suite can run
// against it directly, or through the broker's endpoint for it.
//
//   node fixture-server.mjs [--port N] [--name NAME] [--retry-ms N] [--strict-protocol-header]
//
// Listens on 127.0.0.1 (port from --port, else $PORT, else 0 = ephemeral) at
// path /mcp and prints exactly one line "LISTENING <port>" to stdout when ready.
// Everything else goes to stderr.
//
// Sessions are stateful (Mcp-Session-Id); each session has its own McpServer,
// transport and in-memory EventStore, so SSE streams are resumable with
// Last-Event-ID (priming events carry `retry: <retry-ms>`).
//
// DNS rebinding protection as the SDK's default for localhost servers
// (createMcpExpressApp / localhostHostValidation): the Host header's hostname
// must be localhost, 127.0.0.1 or [::1] (any port); a present Origin must name
// one of those hosts too. Otherwise 403.
//
// Protocol-version header: the conformance scenario server-sse-polling sends
// its raw POST with `MCP-Protocol-Version: 2025-03-26` on a session that
// negotiated 2025-11-25. The SDK decides from that header whether to send a
// priming event and allow closing the stream (only for >= 2025-11-25), so the
// fixture treats the session's negotiated version as authoritative and raises
// an older (still supported) header to it on POST, logging each time to
// stderr. `--strict-protocol-header` turns this off (pure SDK behaviour).

import http from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  ListToolsRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

// ---------------------------------------------------------------- options
const { values: opts } = parseArgs({
  options: {
    port: { type: 'string' },
    name: { type: 'string', default: 'mcp-broker-fixture' },
    'retry-ms': { type: 'string', default: '1000' },
    'strict-protocol-header': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (opts.help) {
  process.stderr.write('usage: fixture-server.mjs [--port N] [--name NAME] [--retry-ms N] [--strict-protocol-header]\n');
  process.exit(0);
}
const PORT = Number(opts.port ?? process.env.PORT ?? 0);
const SERVER_NAME = opts.name;
const RETRY_MS = Number(opts['retry-ms']);
const STRICT_HEADER = opts['strict-protocol-header'];
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  process.stderr.write(`fixture-server: bad port ${opts.port ?? process.env.PORT}\n`);
  process.exit(2);
}

const log = (...a) => process.stderr.write(`[fixture ${SERVER_NAME}] ${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- test data
// 1x1 red PNG and a minimal WAV (same kind of payloads the suite expects).
const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV_MIN = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: {
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
  },
  additionalProperties: false,
};

// ---------------------------------------------------------------- event store
// One per session. Event ids are "<streamId>:<seq>" with a per-store counter,
// so ordering is exact and a session can never replay another's events.
class MemoryEventStore {
  #seq = 0;
  #events = new Map(); // eventId -> { streamId, seq, message }

  async storeEvent(streamId, message) {
    const seq = ++this.#seq;
    const eventId = `${streamId}:${seq}`;
    this.#events.set(eventId, { streamId, seq, message });
    return eventId;
  }

  async getStreamIdForEventId(eventId) {
    return this.#events.get(eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId, { send }) {
    const last = this.#events.get(lastEventId);
    if (!last) throw new Error(`Unknown Last-Event-ID ${lastEventId}`);
    const later = [...this.#events.entries()]
      .filter(([, e]) => e.streamId === last.streamId && e.seq > last.seq)
      .sort((a, b) => a[1].seq - b[1].seq);
    for (const [eventId, { message }] of later) {
      // Priming events are stored as {} and are not messages.
      if (message && Object.keys(message).length > 0) await send(eventId, message);
    }
    return last.streamId;
  }
}

// ---------------------------------------------------------------- MCP server per session
function createServer(session) {
  const mcp = new McpServer(
    { name: SERVER_NAME, version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      instructions: `Fixture MCP server "${SERVER_NAME}" for MCP Broker tests.`,
    },
  );

  // Log notification tied to the current request (goes on its POST stream),
  // filtered by the level set with logging/setLevel.
  const sendLog = async (extra, level, data) => {
    if (mcp.server.isMessageIgnored?.(level, extra.sessionId)) return;
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level, logger: SERVER_NAME, data },
    });
  };
  const text = (t) => ({ content: [{ type: 'text', text: t }] });

  // ----- tools
  mcp.registerTool(
    'test_simple_text',
    { description: 'Returns a simple text content item' },
    async () => text('This is a simple text response for testing.'),
  );

  mcp.registerTool(
    'test_image_content',
    { description: 'Returns an image content item (1x1 PNG)' },
    async () => ({ content: [{ type: 'image', data: PNG_1PX, mimeType: 'image/png' }] }),
  );

  mcp.registerTool(
    'test_audio_content',
    { description: 'Returns an audio content item (minimal WAV)' },
    async () => ({ content: [{ type: 'audio', data: WAV_MIN, mimeType: 'audio/wav' }] }),
  );

  mcp.registerTool(
    'test_embedded_resource',
    { description: 'Returns an embedded resource content item' },
    async () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    }),
  );

  mcp.registerTool(
    'test_multiple_content_types',
    { description: 'Returns text, image and resource content items' },
    async () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG_1PX, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );

  mcp.registerTool(
    'test_tool_with_logging',
    { description: 'Sends three info log notifications while running', inputSchema: {} },
    async (_args, extra) => {
      await sendLog(extra, 'info', 'Tool execution started');
      await sleep(50);
      await sendLog(extra, 'info', 'Tool processing data');
      await sleep(50);
      await sendLog(extra, 'info', 'Tool execution completed');
      return text('Tool with logging executed successfully');
    },
  );

  mcp.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0/100, 50/100, 100/100 when given a progressToken', inputSchema: {} },
    async (_args, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` },
          });
        }
        if (progress < 100) await sleep(50);
      }
      return text(`Progress tool completed (token ${progressToken ?? 'none'})`);
    },
  );

  mcp.registerTool(
    'test_error_handling',
    { description: 'Always fails: returns isError: true' },
    async () => {
      throw new Error('This tool intentionally returns an error for testing');
    },
  );

  mcp.registerTool(
    'test_reconnection',
    {
      description:
        'Closes the POST SSE stream mid-call (SEP-1699); the result is delivered after the client reconnects with Last-Event-ID',
      inputSchema: {},
    },
    async (_args, extra) => {
      if (extra.closeSSEStream) {
        extra.closeSSEStream();
      } else if (extra.requestId !== undefined) {
        // No resumability negotiated: closing would lose the result, so don't.
        log(`test_reconnection: stream not closable for this request (protocol < 2025-11-25?)`);
      }
      await sleep(100);
      return text(
        'Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.',
      );
    },
  );

  mcp.registerTool(
    'test_sampling',
    {
      description: 'Asks the client for an LLM completion (sampling/createMessage)',
      inputSchema: { prompt: z.string().describe('The prompt to send to the LLM') },
    },
    async ({ prompt }, extra) => {
      try {
        const result = await extra.sendRequest(
          {
            method: 'sampling/createMessage',
            params: {
              messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
              maxTokens: 100,
            },
          },
          CreateMessageResultSchema,
        );
        const reply = Array.isArray(result.content)
          ? result.content.map((c) => c.text ?? '').join('')
          : (result.content?.text ?? '');
        return text(`LLM response: ${reply}`);
      } catch (e) {
        return { isError: true, content: [{ type: 'text', text: `Sampling failed: ${e.message}` }] };
      }
    },
  );

  const elicit = async (extra, params) => {
    try {
      const r = await extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema);
      return { action: r.action, content: r.content ?? {} };
    } catch (e) {
      return { error: e.message };
    }
  };

  mcp.registerTool(
    'test_elicitation',
    {
      description: 'Asks the user for input (elicitation/create)',
      inputSchema: { message: z.string().describe('The message to show the user') },
    },
    async ({ message }, extra) => {
      const r = await elicit(extra, {
        message,
        requestedSchema: {
          type: 'object',
          properties: {
            username: { type: 'string', description: "User's response" },
            email: { type: 'string', description: "User's email address" },
          },
          required: ['username', 'email'],
        },
      });
      if (r.error) return { isError: true, content: [{ type: 'text', text: `Elicitation failed: ${r.error}` }] };
      return text(`User response: action=${r.action}, content=${JSON.stringify(r.content)}`);
    },
  );

  mcp.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicitation with default values for every primitive type (SEP-1034)', inputSchema: {} },
    async (_args, extra) => {
      const r = await elicit(extra, {
        message: 'Please review and update the form fields with defaults',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: {
              type: 'string',
              description: 'User status',
              enum: ['active', 'inactive', 'pending'],
              default: 'active',
            },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          },
          required: [],
        },
      });
      if (r.error) return { isError: true, content: [{ type: 'text', text: `Elicitation failed: ${r.error}` }] };
      return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content)}`);
    },
  );

  mcp.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicitation with the five enum schema variants (SEP-1330)', inputSchema: {} },
    async (_args, extra) => {
      const r = await elicit(extra, {
        message: 'Please select options from the enum fields',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: {
              type: 'string',
              description: 'Select one option',
              enum: ['option1', 'option2', 'option3'],
            },
            titledSingle: {
              type: 'string',
              description: 'Select one option with titles',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              description: 'Select one option (legacy)',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              description: 'Select multiple options',
              minItems: 1,
              maxItems: 3,
              items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            },
            titledMulti: {
              type: 'array',
              description: 'Select multiple options with titles',
              minItems: 1,
              maxItems: 3,
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
          required: [],
        },
      });
      if (r.error) return { isError: true, content: [{ type: 'text', text: `Elicitation failed: ${r.error}` }] };
      return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content)}`);
    },
  );

  // Listed with a raw JSON Schema 2020-12 inputSchema (see tools/list override).
  mcp.registerTool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features ($schema, $defs, additionalProperties)',
      inputSchema: {
        name: z.string().optional(),
        address: z.object({ street: z.string().optional(), city: z.string().optional() }).optional(),
      },
    },
    async (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );

  // Broker-test helpers (not used by the conformance suite).
  mcp.registerTool(
    'echo',
    {
      description: 'Echoes its text argument, prefixed with this server name',
      inputSchema: { text: z.string().describe('Text to echo') },
    },
    async ({ text: t }) => text(`${SERVER_NAME}: ${t}`),
  );

  mcp.registerTool(
    'whoami',
    {
      description:
        'Returns this server name, the session id and the HTTP request headers it saw; Authorization is shown as its scheme plus the first 16 hex digits of the SHA-256 of the whole value',
      inputSchema: {},
    },
    async (_args, extra) => {
      const headers = { ...(extra.requestInfo?.headers ?? {}) };
      if (headers.authorization) {
        const v = String(headers.authorization);
        headers.authorization = `${v.split(' ')[0]} sha256:${createHash('sha256').update(v).digest('hex').slice(0, 16)}`;
      }
      return text(JSON.stringify({ server: SERVER_NAME, sessionId: extra.sessionId, headers }));
    },
  );

  mcp.registerTool(
    'update_watched_resource',
    { description: 'Sends notifications/resources/updated for test://watched-resource if subscribed', inputSchema: {} },
    async () => {
      const uri = 'test://watched-resource';
      if (!session.subscriptions.has(uri)) return text(`not subscribed to ${uri}`);
      await mcp.server.sendResourceUpdated({ uri });
      return text(`sent resources/updated for ${uri}`);
    },
  );

  // tools/list: the SDK's list, with the raw 2020-12 schema for json_schema_2020_12_tool
  // (the SDK's zod conversion does not keep $schema/$defs).
  const sdkList = mcp.server._requestHandlers.get('tools/list');
  mcp.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const result = await sdkList(request, extra);
    return {
      ...result,
      tools: result.tools.map((t) =>
        t.name === 'json_schema_2020_12_tool' ? { ...t, inputSchema: JSON_SCHEMA_2020_12 } : t,
      ),
    };
  });

  // ----- resources
  mcp.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static Text Resource', description: 'A static text resource for testing', mimeType: 'text/plain' },
    async (uri) => ({
      contents: [
        { uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
      ],
    }),
  );

  mcp.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static Binary Resource', description: 'A static binary resource (PNG) for testing', mimeType: 'image/png' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_1PX }] }),
  );

  mcp.registerResource(
    'watched-resource',
    'test://watched-resource',
    { title: 'Watched Resource', description: 'A resource clients can subscribe to', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }] }),
  );

  mcp.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', {
      list: undefined,
      complete: { id: (value) => ['123', '456', '789'].filter((v) => v.startsWith(value)) },
    }),
    { title: 'Resource Template', description: 'A resource template with parameter substitution', mimeType: 'application/json' },
    async (uri, { id }) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        },
      ],
    }),
  );

  mcp.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    session.subscriptions.add(request.params.uri);
    return {};
  });
  mcp.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    session.subscriptions.delete(request.params.uri);
    return {};
  });

  // ----- prompts
  mcp.registerPrompt(
    'test_simple_prompt',
    { title: 'Simple Test Prompt', description: 'A simple prompt without arguments' },
    async () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
    }),
  );

  mcp.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt With Arguments',
      description: 'A prompt with two required arguments',
      argsSchema: {
        arg1: completable(z.string().describe('First test argument'), (value) =>
          ['paris', 'park', 'party'].filter((v) => v.startsWith(value ?? '')),
        ),
        arg2: z.string().describe('Second test argument'),
      },
    },
    async ({ arg1, arg2 }) => ({
      messages: [
        { role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } },
      ],
    }),
  );

  mcp.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt With Embedded Resource',
      description: 'A prompt that embeds a resource',
      argsSchema: { resourceUri: z.string().describe('URI of the resource to embed') },
    },
    async ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );

  mcp.registerPrompt(
    'test_prompt_with_image',
    { title: 'Prompt With Image', description: 'A prompt that includes image content' },
    async () => ({
      messages: [
        { role: 'user', content: { type: 'image', data: PNG_1PX, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ],
    }),
  );

  // logging/setLevel is answered by the SDK's Server (capability `logging`),
  // which also records the level that isMessageIgnored() checks. Keep it, but
  // make sure it exists (fail loudly if a future SDK changes this).
  if (!mcp.server._requestHandlers.has('logging/setLevel')) {
    throw new Error('SDK did not install a logging/setLevel handler');
  }
  return mcp;
}

// ---------------------------------------------------------------- HTTP
const sessions = new Map(); // sessionId -> { transport, mcp, protocolVersion, subscriptions }
const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function hostnameOf(value, withScheme) {
  try {
    return new URL(withScheme ? value : `http://${value}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function sendJsonError(res, status, code, message) {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function setHeader(req, name, value) {
  // The SDK's node adapter reads both rawHeaders and headers.
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === name) req.rawHeaders[i + 1] = value;
  }
  req.headers[name] = value;
}

async function handle(req, res) {
  // DNS rebinding protection (SDK default for localhost servers).
  const host = req.headers.host;
  if (!host || !LOCAL_HOSTNAMES.has(hostnameOf(host, false))) {
    return sendJsonError(res, 403, -32000, `Invalid Host header: ${host}`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !LOCAL_HOSTNAMES.has(hostnameOf(origin, true))) {
    return sendJsonError(res, 403, -32000, `Invalid Origin header: ${origin}`);
  }

  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/mcp') return sendJsonError(res, 404, -32000, 'Not found: the MCP endpoint is /mcp');

  let body;
  if (req.method === 'POST') {
    const raw = await readBody(req);
    try {
      body = JSON.parse(raw);
    } catch {
      return sendJsonError(res, 400, -32700, 'Parse error: body is not JSON');
    }
  }

  const sessionId = req.headers['mcp-session-id'];
  if (sessionId !== undefined) {
    const session = sessions.get(sessionId);
    if (!session) return sendJsonError(res, 404, -32001, 'Session not found');
    const header = req.headers['mcp-protocol-version'];
    if (
      !STRICT_HEADER &&
      req.method === 'POST' &&
      typeof header === 'string' &&
      SUPPORTED_PROTOCOL_VERSIONS.includes(header) &&
      header < session.protocolVersion &&
      session.protocolVersion >= '2025-11-25'
    ) {
      log(`raising MCP-Protocol-Version ${header} to negotiated ${session.protocolVersion} (session ${sessionId})`);
      setHeader(req, 'mcp-protocol-version', session.protocolVersion);
    }
    return session.transport.handleRequest(req, res, body);
  }

  // No session: only an initialize POST may start one.
  const isInit = req.method === 'POST' && !Array.isArray(body) && isInitializeRequest(body);
  if (!isInit) {
    return sendJsonError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required (send initialize first)');
  }
  const requested = body.params?.protocolVersion;
  const session = {
    protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION,
    subscriptions: new Set(),
  };
  session.transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore: new MemoryEventStore(),
    retryInterval: RETRY_MS,
    onsessioninitialized: (id) => {
      sessions.set(id, session);
      log(`session ${id} opened (protocol ${session.protocolVersion})`);
    },
    onsessionclosed: (id) => log(`session ${id} deleted by client`),
  });
  session.transport.onclose = () => {
    const id = session.transport.sessionId;
    if (id && sessions.delete(id)) log(`session ${id} closed`);
  };
  session.mcp = createServer(session);
  await session.mcp.connect(session.transport);
  return session.transport.handleRequest(req, res, body);
}

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    log(`error: ${e?.stack ?? e}`);
    sendJsonError(res, 500, -32603, 'Internal server error');
  });
});

httpServer.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});

const shutdown = async () => {
  for (const s of sessions.values()) await s.transport.close().catch(() => {});
  httpServer.closeAllConnections?.();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
