#!/usr/bin/env node
// The smallest real use of an MCP endpoint: connect, list the tools, call the first one.
//
//   node call-first-tool.mjs URL [--timeout-ms N]
//
// The SDK's Client over StreamableHTTPClientTransport: initializes, lists tools (first page),
// calls the first tool with arguments built from its inputSchema (each required property of
// type string gets "conformance", number/integer 1, boolean true; others are left out), ends
// the session and prints one line to stdout:
//   called <tool> (<n> tools listed): <first text block, at most 80 characters>
// Exit 0 on success; 1 with a message on stderr on any error (connection, listing, no tool,
// a JSON-RPC error, a result with isError: true, or the deadline, default 20000 ms, passing);
// 2 on a usage error. Used by tests/integration/conformance-auth-client.sh against the broker.
// With MCPB_AUTHORIZATION_TOKEN in the environment (the broker's grant: in the environment, not
// on the command line) every request carries "Authorization: Bearer <that token>".

import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const USAGE = 'usage: call-first-tool.mjs URL [--timeout-ms N]';

function die(message, code = 1) {
  process.stderr.write(`call-first-tool: ${message}\n`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { 'timeout-ms': { type: 'string', default: '20000' } } });
} catch (error) {
  die(`${error.message}\n${USAGE}`, 2);
}
const timeoutMs = Number(parsed.values['timeout-ms']);
if (parsed.positionals.length !== 1 || !(timeoutMs > 0)) die(USAGE, 2);
if (!URL.canParse(parsed.positionals[0])) die(`not a URL: ${parsed.positionals[0]}`, 2);
const endpoint = new URL(parsed.positionals[0]);

// Arguments a tool accepts without knowing what it does: its required primitive properties.
function argumentsFor(inputSchema) {
  const args = {};
  const properties = inputSchema?.properties ?? {};
  for (const name of inputSchema?.required ?? []) {
    const type = properties[name]?.type;
    if (type === 'string') args[name] = 'conformance';
    else if (type === 'number' || type === 'integer') args[name] = 1;
    else if (type === 'boolean') args[name] = true;
  }
  return args;
}

// The error's own words, on one line.
function describe(error) {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim();
}

const deadline = setTimeout(() => die(`no answer within ${timeoutMs} ms from ${endpoint.origin}${endpoint.pathname}`), timeoutMs);

const client = new Client({ name: 'mcp-broker-call-first-tool', version: '1.0.0' });
const grant = process.env.MCPB_AUTHORIZATION_TOKEN;
const transport = new StreamableHTTPClientTransport(
  endpoint,
  grant ? { requestInit: { headers: { Authorization: `Bearer ${grant}` } } } : undefined,
);
let step = 'connect';
try {
  await client.connect(transport);
  step = 'tools/list';
  const { tools } = await client.listTools();
  if (!tools || tools.length === 0) throw new Error('the server lists no tools');
  const tool = tools[0];
  step = `tools/call ${tool.name}`;
  const result = await client.callTool({ name: tool.name, arguments: argumentsFor(tool.inputSchema) });
  const text = (result.content ?? []).find((block) => block.type === 'text')?.text ?? '';
  const summary = text.replace(/\s+/g, ' ').trim().slice(0, 80);
  if (result.isError) throw new Error(`the tool answered with an error: ${summary}`);
  step = 'close';
  await transport.terminateSession().catch(() => {}); // stateless servers refuse it: fine
  await client.close();
  clearTimeout(deadline);
  process.stdout.write(`called ${tool.name} (${tools.length} tools listed): ${summary}\n`);
  process.exit(0);
} catch (error) {
  die(`${step} failed: ${describe(error)}`);
}
