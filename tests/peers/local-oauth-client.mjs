#!/usr/bin/env node
// A real downstream MCP client that gets its grant from MCP Broker's own authorization server:
// the SDK's Client over StreamableHTTPClientTransport with an OAuthClientProvider, the way
// Claude Code and other clients run the MCP authorization flow (RFC 9728 discovery, RFC 8414
// metadata, RFC 7591 registration, authorization code + PKCE S256, refresh).
//
//   node local-oauth-client.mjs URL [--call NAME [--args JSON]] [--state FILE]
//        [--discard-access-token] [--no-browser] [--decision approve|deny|tray]
//        [--server NAME]... [--timeout-ms N]
//
// Its redirectToAuthorization() is the user's browser: it GETs the broker's consent page, reads
// the form (consent id, CSRF token, server checkboxes), posts Allow (or Deny: --decision deny or
// LOCAL_OAUTH_DECISION=deny) as that page would (Origin = the page's origin, Sec-Fetch-Site:
// same-origin), follows the 302 to its own redirect URI (http://127.0.0.1:<port>/callback,
// served here) and checks state and iss there. Then transport.finishAuth(code), a new
// connection, tools/list (all pages) and one tools/call when --call is given.
//
// --decision tray: post nothing; wait on the page, as its script does, for the answer given in
//   MCP Broker's tray (GET /oauth/consent/status), then follow it.
// --server NAME (repeatable): tick only these servers on the consent page (default: as the
//   page pre-checks them).
// --state FILE: client registration and tokens are read from FILE at start and written back
//   (mode 0600) whenever they change, so that a second run reuses them. FILE holds tokens: keep
//   it inside a test's temporary directory.
// --discard-access-token: replace the saved access token by a bogus one, so the broker answers
//   401 and the SDK must use the refresh token.
// --no-browser: fail instead of opening the consent page (a run that must get by on saved
//   tokens).
//
// Prints one JSON object on stdout and never a token, code, verifier or CSRF value:
//   {"tools": [...], "call": <CallToolResult>|null, "tokens": {"hasAccess", "hasRefresh"},
//    "browser": {"used", "decision", "servers"}, "http": ["POST /oauth/token 200", ...]}
// "http" lists every request the SDK and the "browser" made, as "METHOD path status".
// Exit 0 on success; 1 on any failure, with {"error": "...", ...the rest so far} on stdout;
// 2 = usage error.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';

const USAGE =
  'usage: local-oauth-client.mjs URL [--call NAME [--args JSON]] [--state FILE] ' +
  '[--discard-access-token] [--no-browser] [--decision approve|deny|tray] [--server NAME]... [--timeout-ms N]';

function usage(message) {
  process.stderr.write(`local-oauth-client: ${message}\n${USAGE}\n`);
  process.exit(2);
}

// ---- arguments
let url;
let call;
let statePath;
let discardAccessToken = false;
let noBrowser = false;
let decision = process.env.LOCAL_OAUTH_DECISION || 'approve';
const chosenServers = [];
let timeoutMs = 60000;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => {
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    return argv[++i];
  };
  if (a === '--call') call = { name: next(), args: {} };
  else if (a === '--args') {
    if (!call) usage('--args must follow --call');
    try {
      call.args = JSON.parse(next());
    } catch (e) {
      usage(`--args is not JSON: ${e.message}`);
    }
  } else if (a === '--state') statePath = next();
  else if (a === '--discard-access-token') discardAccessToken = true;
  else if (a === '--no-browser') noBrowser = true;
  else if (a === '--decision') decision = next();
  else if (a === '--server') chosenServers.push(next());
  else if (a === '--timeout-ms') {
    timeoutMs = Number(next());
    if (!(timeoutMs > 0)) usage('--timeout-ms must be a positive number');
  } else if (a === '-h' || a === '--help') {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  } else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (url === undefined) url = a;
  else usage(`unexpected argument ${a}`);
}
if (url === undefined) usage('URL is required');
if (!['approve', 'deny', 'tray'].includes(decision)) usage('--decision must be approve, deny or tray');
let endpoint;
try {
  endpoint = new URL(url);
} catch {
  usage(`not a URL: ${url}`);
}

const out = {
  tools: [],
  call: null,
  tokens: { hasAccess: false, hasRefresh: false },
  browser: { used: false, decision: null, servers: null },
  http: [],
};

function finish(error) {
  if (error !== undefined) out.error = error;
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.exit(error === undefined ? 0 : 1);
}

const watchdog = setTimeout(() => finish(`gave up after ${timeoutMs} ms`), timeoutMs);
watchdog.unref();

// ---- requests, logged without query, body or headers
function pathOf(target) {
  const u = new URL(typeof target === 'string' || target instanceof URL ? target : target.url);
  return u.pathname;
}

async function loggingFetch(target, init) {
  const method = init?.method ?? (target instanceof Request ? target.method : 'GET');
  try {
    const response = await fetch(target, init);
    out.http.push(`${method} ${pathOf(target)} ${response.status}`);
    return response;
  } catch (e) {
    out.http.push(`${method} ${pathOf(target)} failed`);
    throw e;
  }
}

// ---- saved state (registration and tokens)
let saved = {};
if (statePath && existsSync(statePath)) {
  try {
    saved = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (e) {
    finish(`cannot read --state ${statePath}: ${e.message}`);
  }
}
if (discardAccessToken && saved.tokens) {
  saved.tokens = { ...saved.tokens, access_token: 'discarded-' + randomBytes(8).toString('hex') };
}

function persist() {
  if (!statePath) return;
  const temporary = `${statePath}.tmp-${process.pid}`;
  writeFileSync(temporary, JSON.stringify(saved), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, statePath);
}

// ---- the redirect URI: a small server on 127.0.0.1 (the saved port when there is one, so that
// the saved registration's redirect URI still matches)
const callbacks = [];
const waiters = [];
const callbackServer = http.createServer((request, response) => {
  const target = new URL(request.url, 'http://127.0.0.1');
  if (target.pathname !== '/callback') {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this tab.\n');
  callbacks.push(target.searchParams);
  while (waiters.length) waiters.shift()();
});

async function listen(port) {
  return new Promise((resolve, reject) => {
    callbackServer.once('error', reject);
    callbackServer.listen(port, '127.0.0.1', () => {
      callbackServer.off('error', reject);
      resolve(callbackServer.address().port);
    });
  });
}

let callbackPort;
const savedPort = saved.redirectUrl ? Number(new URL(saved.redirectUrl).port) : 0;
try {
  callbackPort = await listen(savedPort);
} catch {
  callbackPort = await listen(0);
}
const redirectUrl = `http://127.0.0.1:${callbackPort}/callback`;
if (saved.redirectUrl !== redirectUrl) {
  // Another port: the saved registration cannot be used with it.
  delete saved.clientInformation;
  saved.redirectUrl = redirectUrl;
}
callbackServer.unref();

function nextCallback() {
  if (callbacks.length) return Promise.resolve(callbacks.shift());
  return new Promise((resolve) => waiters.push(() => resolve(callbacks.shift())));
}

// ---- the user's browser on the consent page
function formField(html, name) {
  const match = html.match(new RegExp(`<input type="hidden" name="${name}"[^>]* value="([^"]*)"`));
  return match ? decodeEntities(match[1]) : undefined;
}

function decodeEntities(text) {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

let expectedState;
let receivedCode;
let authorizationError;

async function browse(authorizationUrl) {
  out.browser.used = true;
  out.browser.decision = decision;
  const issuer = authorizationUrl.origin;
  const page = await loggingFetch(authorizationUrl, { redirect: 'manual' });
  let location;
  if (page.status === 200) {
    const html = await page.text();
    const consent = formField(html, 'consent');
    const csrf = formField(html, 'csrf');
    if (!consent || !csrf) throw new Error('the consent page has no consent form');
    const checked = [...html.matchAll(/<input type="checkbox" name="server" value="([^"]*)"( checked)?/g)]
      .filter((m) => m[2])
      .map((m) => decodeEntities(m[1]));
    const servers = chosenServers.length ? chosenServers : checked;
    out.browser.servers = servers;
    if (decision === 'tray') {
      location = await answerFromTray(issuer, consent);
    } else {
      location = await answerOnPage(issuer, consent, csrf, servers);
    }
  } else if (page.status === 302) {
    location = page.headers.get('location'); // an error, or an answer the user remembered
  } else {
    throw new Error(`the authorization endpoint answered ${page.status}`);
  }
  await followToCallback(issuer, location);
}

// The user answers on the page: Allow or Deny posted as the page's form does.
async function answerOnPage(issuer, consent, csrf, servers) {
    const form = new URLSearchParams({ consent, csrf, decision });
    for (const server of servers) form.append('server', server);
    const answer = await loggingFetch(new URL('/oauth/consent', issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: issuer,
        'sec-fetch-site': 'same-origin',
      },
      body: form.toString(),
    });
    if (answer.status !== 302) {
      throw new Error(`the consent form was answered ${answer.status}, not with a redirect`);
    }
    return answer.headers.get('location');
}

// The user answers in MCP Broker's tray: the page's script polls the consent's status (once a
// second in the page, faster here) and follows the location the answer gives.
async function answerFromTray(issuer, consent) {
  for (;;) {
    const response = await fetch(new URL(`/oauth/consent/status?id=${encodeURIComponent(consent)}`, issuer), {
      cache: 'no-store',
    });
    const answer = await response.json();
    if (answer.location) {
      out.browser.decision = answer.status;
      out.http.push(`GET /oauth/consent/status ${response.status} ${answer.status}`);
      return answer.location;
    }
    if (answer.status !== 'pending') throw new Error(`the consent ended without an answer: ${answer.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function followToCallback(issuer, location) {
  const target = new URL(location);
  if (`${target.origin}${target.pathname}` !== redirectUrl) {
    throw new Error(`the broker redirected to ${target.origin}${target.pathname}, not to ${redirectUrl}`);
  }
  const delivered = nextCallback();
  const callback = await loggingFetch(target);
  if (callback.status !== 200) throw new Error(`the callback answered ${callback.status}`);
  const parameters = await delivered;
  if (parameters.get('state') !== expectedState) throw new Error('the callback state does not match');
  if (parameters.get('iss') !== issuer) {
    throw new Error(`the callback iss ${parameters.get('iss')} is not the issuer ${issuer} (RFC 9207)`);
  }
  if (parameters.get('error')) {
    authorizationError = `${parameters.get('error')}: ${parameters.get('error_description') ?? ''}`;
    return;
  }
  receivedCode = parameters.get('code');
  if (!receivedCode) throw new Error('the callback carried no code');
}

// ---- the SDK's OAuthClientProvider
const provider = {
  get redirectUrl() {
    return redirectUrl;
  },
  get clientMetadata() {
    return {
      client_name: 'local-oauth-client',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  },
  state() {
    expectedState = randomBytes(16).toString('base64url');
    return expectedState;
  },
  clientInformation() {
    return saved.clientInformation;
  },
  saveClientInformation(information) {
    saved.clientInformation = information;
    persist();
  },
  tokens() {
    return saved.tokens;
  },
  saveTokens(tokens) {
    saved.tokens = tokens;
    persist();
  },
  async redirectToAuthorization(authorizationUrl) {
    if (noBrowser) throw new Error('authorization needed, but --no-browser was given');
    await browse(authorizationUrl);
  },
  saveCodeVerifier(verifier) {
    saved.codeVerifier = verifier; // memory only
  },
  codeVerifier() {
    return saved.codeVerifier;
  },
  invalidateCredentials(scope) {
    if (scope === 'all' || scope === 'client') delete saved.clientInformation;
    if (scope === 'all' || scope === 'tokens') delete saved.tokens;
    if (scope === 'all' || scope === 'verifier') delete saved.codeVerifier;
    persist();
  },
};

function newConnection() {
  const client = new Client({ name: 'local-oauth-client', version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(endpoint, { authProvider: provider, fetch: loggingFetch });
  return { client, transport };
}

// ---- run
let connection = newConnection();
try {
  try {
    await connection.client.connect(connection.transport, { timeout: timeoutMs });
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
    if (authorizationError) throw new Error(`authorization refused: ${authorizationError}`);
    if (!receivedCode) throw new Error(`authorization did not complete: ${e.message}`);
    await connection.transport.finishAuth(receivedCode);
    receivedCode = undefined;
    await connection.client.close().catch(() => {});
    connection = newConnection();
    await connection.client.connect(connection.transport, { timeout: timeoutMs });
  }
  let cursor;
  do {
    const page = await connection.client.listTools(cursor === undefined ? {} : { cursor }, { timeout: timeoutMs });
    out.tools.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  if (call) {
    if (!out.tools.includes(call.name)) throw new Error(`tool '${call.name}' is not listed`);
    out.call = await connection.client.callTool({ name: call.name, arguments: call.args }, undefined, {
      timeout: timeoutMs,
    });
    if (out.call.isError) throw new Error(`tool ${call.name} returned isError`);
  }
} catch (e) {
  out.tokens = { hasAccess: !!saved.tokens?.access_token, hasRefresh: !!saved.tokens?.refresh_token };
  await connection.transport.terminateSession().catch(() => {});
  finish(e.message);
}
out.tokens = { hasAccess: !!saved.tokens?.access_token, hasRefresh: !!saved.tokens?.refresh_token };
await connection.transport.terminateSession().catch(() => {});
await connection.client.close().catch(() => {});
finish();
