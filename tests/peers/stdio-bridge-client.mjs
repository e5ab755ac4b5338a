#!/usr/bin/env node
// A real MCP client of a stdio server: the SDK's Client over StdioClientTransport, for driving
// `mcp-broker stdio` from tests.
//
//   node stdio-bridge-client.mjs [--call NAME [--args JSON] [--progress]]...
//                                [--subscribe URI] [--wait-for METHOD]... [--timeout-ms N]
//                                -- COMMAND [ARG...]
//
// Launches COMMAND ARG... with this process's environment (the bridge finds the keychain and
// the running broker through it) and its stderr piped, connects (initialize, declaring the
// sampling and elicitation capabilities), lists every tool (following nextCursor), subscribes
// to --subscribe, calls each --call in order (with a progress token if --progress), waits up
// to the timeout for one notification of each --wait-for method, then closes the transport
// (which ends the command's stdin) and waits for the command to exit. It prints one JSON
// object to stdout:
//   { "tools": [names], "calls": {NAME: CallToolResult}, "notifications": {METHOD: count},
//     "samplingRequests": n, "stdoutLines": n, "nonJsonRpcLines": [first 200 chars of each],
//     "transportErrors": [messages], "exitCode": n|null, "signal": name|null,
//     "exitedAtEndOfInput": whether it exited within 5 s of its stdin ending,
//     "stderr": "the command's stderr", "error": "what failed" (only on failure) }
// Sampling requests are answered with the text "sampled by stdio-bridge-client"; elicitation
// requests are declined.
// Exit 0 when every step succeeded, 1 otherwise (the JSON is printed either way), 2 on a usage
// error.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

const USAGE =
  'usage: stdio-bridge-client.mjs [--call NAME [--args JSON] [--progress]]... [--subscribe URI] [--wait-for METHOD]... [--timeout-ms N] -- COMMAND [ARG...]';
const SAMPLED_TEXT = 'sampled by stdio-bridge-client';

function die(message, code = 1) {
  process.stderr.write(`stdio-bridge-client: ${message}\n`);
  process.exit(code);
}

// ---- arguments
const calls = [];
const waitFor = [];
let subscribe;
let timeoutMs = 20000;
const argv = process.argv.slice(2);
const separator = argv.indexOf('--');
if (separator < 0 || separator === argv.length - 1) die(USAGE, 2);
const [command, ...commandArgs] = argv.slice(separator + 1);
const options = argv.slice(0, separator);
for (let i = 0; i < options.length; i++) {
  const a = options[i];
  const next = () => {
    if (i + 1 >= options.length) die(`${a} needs a value\n${USAGE}`, 2);
    return options[++i];
  };
  if (a === '--call') {
    calls.push({ name: next(), args: {}, progress: false });
  } else if (a === '--args' || a === '--progress') {
    if (calls.length === 0) die(`${a} must follow a --call`, 2);
    if (a === '--progress') {
      calls.at(-1).progress = true;
      continue;
    }
    try {
      calls.at(-1).args = JSON.parse(next());
    } catch (e) {
      die(`--args for ${calls.at(-1).name} is not JSON: ${e.message}`, 2);
    }
  } else if (a === '--subscribe') {
    subscribe = next();
  } else if (a === '--wait-for') {
    waitFor.push(next());
  } else if (a === '--timeout-ms') {
    timeoutMs = Number(next());
    if (!(timeoutMs > 0)) die('--timeout-ms must be a positive number', 2);
  } else {
    die(`unknown option ${a}\n${USAGE}`, 2);
  }
}

// ---- the client
const out = {
  tools: [],
  calls: {},
  notifications: {},
  samplingRequests: 0,
  stdoutLines: 0,
  nonJsonRpcLines: [],
  transportErrors: [],
  exitCode: null,
  signal: null,
  stderr: '',
};

const transport = new StdioClientTransport({
  command,
  args: commandArgs,
  env: { ...process.env },
  stderr: 'pipe',
});
transport.stderr.on('data', (chunk) => {
  out.stderr += chunk.toString('utf8');
});

const client = new Client(
  { name: 'stdio-bridge-client', version: '1.0.0' },
  { capabilities: { sampling: {}, elicitation: {} } },
);
client.onerror = (error) => out.transportErrors.push(String(error?.message ?? error));

const noted = new Map(); // method -> resolve functions waiting for it
const note = (method) => {
  out.notifications[method] = (out.notifications[method] ?? 0) + 1;
  for (const resolve of noted.get(method) ?? []) resolve();
  noted.delete(method);
};
const arrival = (method) =>
  out.notifications[method]
    ? Promise.resolve()
    : new Promise((resolve) => noted.set(method, [...(noted.get(method) ?? []), resolve]));
for (const schema of [
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
]) {
  client.setNotificationHandler(schema, (notification) => note(notification.method));
}

client.setRequestHandler(CreateMessageRequestSchema, async () => {
  out.samplingRequests += 1;
  return {
    role: 'assistant',
    content: { type: 'text', text: SAMPLED_TEXT },
    model: 'stdio-bridge-client',
    stopReason: 'endTurn',
  };
});
client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'decline' }));

const watchdog = setTimeout(() => finish(`gave up after ${timeoutMs * 3} ms`), timeoutMs * 3);
watchdog.unref();

let child; // the command's process: its raw stdout and its exit
let exited;

function finish(failure) {
  if (failure !== undefined) out.error = failure;
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.exit(failure === undefined ? 0 : 1);
}

const opts = { timeout: timeoutMs };
let failure;
try {
  await client.connect(transport, opts);
  // SDK 1.32 runs notification handlers a microtask later but handles a response at once, so
  // of lines that arrive in one read a response overtakes the progress notification written
  // before it ("progress notification for an unknown token", typescript-sdk#2580). Hand the
  // messages over one per microtask turn: their order on the wire is what this checks.
  const deliver = transport.onmessage;
  let delivered = Promise.resolve();
  transport.onmessage = (message, extra) => {
    delivered = delivered
      .then(() => deliver(message, extra))
      .catch((error) => out.transportErrors.push(String(error?.message ?? error)));
  };
  // StdioClientTransport keeps the child in a private field (SDK pinned in package.json): the
  // raw lines are checked here, not only what the SDK managed to parse.
  child = transport._process;
  exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      out.exitCode = code;
      out.signal = signal;
      resolve();
    }),
  );
  let partial = '';
  child.stdout.on('data', (chunk) => {
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop();
    for (const line of lines) {
      out.stdoutLines += 1;
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        message = undefined;
      }
      const items = Array.isArray(message) ? message : [message];
      if (!items.every((m) => m && typeof m === 'object' && m.jsonrpc === '2.0')) {
        out.nonJsonRpcLines.push(line.slice(0, 200));
      }
    }
  });

  let cursor;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor }, opts);
    out.tools.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined);

  if (subscribe !== undefined) await client.subscribeResource({ uri: subscribe }, opts);

  for (const { name, args, progress } of calls) {
    const callOptions = { ...opts };
    if (progress) callOptions.onprogress = () => note('notifications/progress');
    try {
      out.calls[name] = await client.callTool({ name, arguments: args }, undefined, callOptions);
    } catch (e) {
      throw new Error(`calling ${name}: ${e.message}`);
    }
  }

  for (const method of waitFor) {
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([arrival(method), late]).finally(() => clearTimeout(timer));
  }
} catch (e) {
  failure = e.message;
}

// The end of its input is how a stdio server learns the client is done (MCP lifecycle): it
// should exit by itself; the SDK's close() would send SIGTERM 2 s later.
if (child) {
  child.stdin.end();
  let timer;
  await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
  clearTimeout(timer);
  out.exitedAtEndOfInput = out.exitCode !== null || out.signal !== null;
}
await client.close().catch(() => {});
if (exited) await exited;
finish(failure);
