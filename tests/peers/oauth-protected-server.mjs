#!/usr/bin/env node
// OAuth-protected MCP server for the broker's upstream OAuth tests.
//
// A real MCP server (@modelcontextprotocol/sdk McpServer +
// StreamableHTTPServerTransport over node:http) at http://127.0.0.1:<port>/mcp,
// protected the way the MCP authorization spec 2025-11-25 asks:
//
//   node oauth-protected-server.mjs --issuer URL [--port N] [--scope "mcp:read"]
//        [--admin-scope mcp:admin] [--advertised-resource URL] [--name NAME]
//
// - Every request to /mcp needs `Authorization: Bearer <JWT access token>` from
//   the authorization server at --issuer (oauth-authorization-server.mjs): RS256
//   signature checked against the issuer's JWKS (jwks_uri from its RFC 8414
//   metadata), iss = --issuer, aud = this server's resource URL
//   (http://127.0.0.1:<port>/mcp), typ at+jwt, not expired (no clock leeway).
//   Missing or invalid → 401 with
//   `WWW-Authenticate: Bearer [error="invalid_token", error_description="…", ]resource_metadata="<url>", scope="<--scope>"`.
//   A valid token without the --scope scopes → 403 insufficient_scope.
// - RFC 9728 protected resource metadata at
//   /.well-known/oauth-protected-resource/mcp (path-aware form only).
// - Tools: whoami {tag?} (subject, client id, scopes, audience, expiry, a fingerprint of the
//   token — never the token — and the tag, to tell concurrent calls apart), echo {text},
//   admin_action {what?} — the last one needs --admin-scope; without it the HTTP request is
//   refused with 403 and
//   `WWW-Authenticate: Bearer error="insufficient_scope", scope="<--scope> <--admin-scope>", resource_metadata="<url>"`.
// - GET /_test/stats → counts of 401s by reason, 403s by reason, accepted requests, and the
//   distinct access tokens accepted (fingerprint, iat, exp, first and last use).
//   POST /_test/reset-stats zeroes them.
//
// Prints exactly one line "LISTENING <port>" on stdout when ready; logs go to
// stderr and never contain a token.

import http from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createRemoteJWKSet, jwtVerify, errors as joseErrors } from 'jose';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

// ---------------------------------------------------------------- options
const USAGE = `usage: oauth-protected-server.mjs --issuer URL [--port N] [--scope "mcp:read"]
  [--admin-scope mcp:admin] [--advertised-resource URL] [--name NAME]
`;
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      issuer: { type: 'string' },
      port: { type: 'string' },
      scope: { type: 'string', default: 'mcp:read' },
      'admin-scope': { type: 'string', default: 'mcp:admin' },
      'advertised-resource': { type: 'string' },
      name: { type: 'string', default: 'mcp-broker-oauth-upstream' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }));
} catch (e) {
  process.stderr.write(`oauth-protected-server: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  process.stderr.write(USAGE);
  process.exit(0);
}
if (!opts.issuer || !URL.canParse(opts.issuer)) {
  process.stderr.write(`oauth-protected-server: --issuer URL is required\n${USAGE}`);
  process.exit(2);
}
const PORT = Number(opts.port ?? process.env.PORT ?? 0);
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  process.stderr.write(`oauth-protected-server: bad port ${opts.port ?? process.env.PORT}\n`);
  process.exit(2);
}
const ISSUER = opts.issuer.replace(/\/+$/, '');
const REQUIRED_SCOPES = opts.scope.split(' ').filter(Boolean);
const ADMIN_SCOPE = opts['admin-scope'];
const ALL_SCOPES = [...new Set([...REQUIRED_SCOPES, 'mcp:read', 'mcp:write', ADMIN_SCOPE])];

const log = (...a) => process.stderr.write(`[oauth-rs ${opts.name}] ${a.join(' ')}\n`);
const fingerprint = (token) => `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;

// Set once listening.
let RESOURCE; // http://127.0.0.1:<port>/mcp
let METADATA_URL; // http://127.0.0.1:<port>/.well-known/oauth-protected-resource/mcp

// ---------------------------------------------------------------- stats
const emptyStats = () => ({ unauthorized: {}, forbidden: {}, accepted: 0 });
let stats = emptyStats();
const count = (bucket, reason) => (stats[bucket][reason] = (stats[bucket][reason] ?? 0) + 1);
// Each distinct access token accepted since the last reset, by fingerprint (oldest first):
// { token, iat, exp, firstMs, lastMs, accepted }. Tells how many tokens a client went through
// and whether it used one close to its expiry.
let tokenUses = new Map();
const TOKENS_KEPT = 1000;
function noteTokenUse(auth) {
  const now = Date.now();
  let use = tokenUses.get(auth.token);
  if (!use) {
    use = { token: auth.token, iat: auth.extra.iat, exp: auth.expiresAt, firstMs: now, lastMs: now, accepted: 0 };
    tokenUses.set(auth.token, use);
    if (tokenUses.size > TOKENS_KEPT) tokenUses.delete(tokenUses.keys().next().value);
  }
  use.lastMs = now;
  use.accepted++;
}

// ---------------------------------------------------------------- token validation
// The issuer's JWKS, found through its metadata on first use (the authorization
// server may start after this one). A failed discovery is retried next time.
let jwksPromise;
async function issuerJwks() {
  jwksPromise ??= (async () => {
    for (const wellKnown of ['oauth-authorization-server', 'openid-configuration']) {
      const r = await fetch(`${ISSUER}/.well-known/${wellKnown}`, { signal: AbortSignal.timeout(5000) });
      if (!r.ok) continue;
      const meta = await r.json();
      if (meta.issuer !== ISSUER) throw new Error(`issuer metadata names ${meta.issuer}, expected ${ISSUER}`);
      return createRemoteJWKSet(new URL(meta.jwks_uri), { timeoutDuration: 5000 });
    }
    throw new Error(`no authorization server metadata at ${ISSUER}`);
  })();
  try {
    return await jwksPromise;
  } catch (e) {
    jwksPromise = undefined;
    throw e;
  }
}

class AuthError extends Error {
  constructor(status, reason, error, description) {
    super(description);
    this.status = status;
    this.reason = reason; // stats key
    this.error = error; // RFC 6750 error code, undefined when no token was sent
  }
}

async function authenticate(req) {
  const header = req.headers.authorization;
  if (!header) throw new AuthError(401, 'missing', undefined, 'no access token');
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!m) throw new AuthError(401, 'malformed', 'invalid_request', 'Authorization header is not a Bearer token');
  const token = m[1];
  let jwks;
  try {
    jwks = await issuerJwks();
  } catch (e) {
    log(`cannot reach the authorization server: ${e.message}`);
    throw new AuthError(401, 'issuer_unreachable', 'invalid_token', 'the authorization server cannot be reached');
  }
  let payload;
  try {
    ({ payload } = await jwtVerify(token, jwks, {
      issuer: ISSUER,
      audience: RESOURCE,
      typ: 'at+jwt',
      algorithms: ['RS256', 'PS256', 'ES256'],
      clockTolerance: 0,
    }));
  } catch (e) {
    let reason = 'invalid';
    if (e instanceof joseErrors.JWTExpired) reason = 'expired';
    else if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'aud') reason = 'audience';
    else if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'iss') reason = 'issuer';
    else if (e instanceof joseErrors.JWSSignatureVerificationFailed || e instanceof joseErrors.JWKSNoMatchingKey) reason = 'signature';
    else if (e instanceof joseErrors.JWSInvalid || e instanceof joseErrors.JWTInvalid) reason = 'malformed';
    throw new AuthError(401, reason, 'invalid_token', `access token rejected (${reason})`);
  }
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
  return {
    token: fingerprint(token), // the SDK wants a `token`; never the real one
    clientId: payload.client_id,
    scopes,
    expiresAt: payload.exp,
    extra: { sub: payload.sub, aud: payload.aud, iss: payload.iss, jti: payload.jti, iat: payload.iat },
  };
}

function challenge(res, status, { error, description, scope }) {
  const parts = [];
  if (error) parts.push(`error="${error}"`);
  if (description) parts.push(`error_description="${description.replace(/["\\]/g, '')}"`);
  parts.push(`resource_metadata="${METADATA_URL}"`);
  if (scope) parts.push(`scope="${scope}"`);
  res.writeHead(status, {
    'WWW-Authenticate': `Bearer ${parts.join(', ')}`,
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
  });
  res.end(JSON.stringify({ error: error ?? 'unauthorized', error_description: description }));
}

// ---------------------------------------------------------------- MCP server per session
function createServer() {
  const mcp = new McpServer({ name: opts.name, version: '1.0.0' }, { capabilities: { tools: {} } });
  const text = (t) => ({ content: [{ type: 'text', text: t }] });

  mcp.registerTool(
    'whoami',
    {
      description:
        "Returns the access token's subject, client id, scopes, audience, expiry and fingerprint (never the token), and the tag it was given",
      inputSchema: { tag: z.string().optional() },
    },
    async ({ tag }, extra) => {
      const a = extra.authInfo ?? {};
      return text(
        JSON.stringify({
          server: opts.name,
          sub: a.extra?.sub,
          client_id: a.clientId,
          scopes: a.scopes,
          aud: a.extra?.aud,
          exp: a.expiresAt,
          token: a.token, // a fingerprint: sha256:<16 hex>
          ...(tag === undefined ? {} : { tag }),
        }),
      );
    },
  );

  mcp.registerTool(
    'echo',
    { description: 'Echoes its text argument, prefixed with this server name', inputSchema: { text: z.string() } },
    async ({ text: t }) => text(`${opts.name}: ${t}`),
  );

  mcp.registerTool(
    'admin_action',
    {
      description: `Needs scope ${ADMIN_SCOPE}; without it the HTTP request is refused with 403 insufficient_scope (step-up)`,
      inputSchema: { what: z.string().optional() },
    },
    async ({ what }, extra) => text(`admin action ${what ?? 'done'} by ${extra.authInfo?.extra?.sub}`),
  );
  return mcp;
}

// ---------------------------------------------------------------- HTTP
const sessions = new Map(); // sessionId -> { transport, mcp, sub }
const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function hostnameOf(value, withScheme) {
  try {
    return new URL(withScheme ? value : `http://${value}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function sendJson(res, status, body, headers = {}) {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
const jsonRpcError = (res, status, code, message) =>
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

const callsTool = (body, name) =>
  [].concat(body ?? []).some((m) => m?.method === 'tools/call' && m?.params?.name === name);

async function handle(req, res) {
  const host = req.headers.host;
  if (!host || !LOCAL_HOSTNAMES.has(hostnameOf(host, false))) {
    return jsonRpcError(res, 403, -32000, `Invalid Host header: ${host}`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !LOCAL_HOSTNAMES.has(hostnameOf(origin, true))) {
    return jsonRpcError(res, 403, -32000, `Invalid Origin header: ${origin}`);
  }

  const url = new URL(req.url, 'http://localhost');

  if (url.pathname === '/.well-known/oauth-protected-resource/mcp' && req.method === 'GET') {
    return sendJson(
      res,
      200,
      {
        resource: opts['advertised-resource'] ?? RESOURCE,
        authorization_servers: [ISSUER],
        scopes_supported: ALL_SCOPES,
        bearer_methods_supported: ['header'],
        resource_name: opts.name,
      },
      { 'Cache-Control': 'no-store' },
    );
  }
  if (url.pathname === '/_test/stats' && req.method === 'GET') {
    return sendJson(res, 200, { ...stats, sessions: sessions.size, tokens: { distinct: tokenUses.size, uses: [...tokenUses.values()] } });
  }
  if (url.pathname === '/_test/reset-stats' && req.method === 'POST') {
    stats = emptyStats();
    tokenUses = new Map();
    return sendJson(res, 200, { ok: true });
  }
  if (url.pathname !== '/mcp') return jsonRpcError(res, 404, -32000, 'Not found: the MCP endpoint is /mcp');

  // ----- authorization
  let auth;
  try {
    auth = await authenticate(req);
  } catch (e) {
    if (!(e instanceof AuthError)) throw e;
    count('unauthorized', e.reason);
    log(`${req.method} /mcp -> 401 (${e.reason})`);
    return challenge(res, 401, { error: e.error, description: e.error ? e.message : undefined, scope: REQUIRED_SCOPES.join(' ') });
  }
  const missing = REQUIRED_SCOPES.filter((s) => !auth.scopes.includes(s));
  if (missing.length) {
    count('forbidden', 'insufficient_scope');
    log(`${req.method} /mcp -> 403 (insufficient_scope: ${missing.join(' ')})`);
    return challenge(res, 403, {
      error: 'insufficient_scope',
      description: `scope ${missing.join(' ')} required`,
      scope: REQUIRED_SCOPES.join(' '),
    });
  }
  req.auth = auth;

  let body;
  if (req.method === 'POST') {
    const raw = await readBody(req);
    try {
      body = JSON.parse(raw);
    } catch {
      return jsonRpcError(res, 400, -32700, 'Parse error: body is not JSON');
    }
    if (callsTool(body, 'admin_action') && !auth.scopes.includes(ADMIN_SCOPE)) {
      count('forbidden', 'admin_scope');
      log(`POST /mcp tools/call admin_action -> 403 (insufficient_scope: ${ADMIN_SCOPE})`);
      return challenge(res, 403, {
        error: 'insufficient_scope',
        description: `admin_action requires ${ADMIN_SCOPE}`,
        scope: [...REQUIRED_SCOPES, ADMIN_SCOPE].join(' '),
      });
    }
  }
  stats.accepted++;
  noteTokenUse(auth);

  const sessionId = req.headers['mcp-session-id'];
  if (sessionId !== undefined) {
    const session = sessions.get(sessionId);
    if (!session) return jsonRpcError(res, 404, -32001, 'Session not found');
    if (session.sub !== auth.extra.sub) {
      count('forbidden', 'session_subject');
      return jsonRpcError(res, 403, -32000, 'Session belongs to another subject');
    }
    return session.transport.handleRequest(req, res, body);
  }

  const isInit = req.method === 'POST' && !Array.isArray(body) && isInitializeRequest(body);
  if (!isInit) {
    return jsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required (send initialize first)');
  }
  const session = { sub: auth.extra.sub };
  session.transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => {
      sessions.set(id, session);
      log(`session ${id} opened for ${auth.extra.sub}`);
    },
  });
  session.transport.onclose = () => {
    const id = session.transport.sessionId;
    if (id && sessions.delete(id)) log(`session ${id} closed`);
  };
  session.mcp = createServer();
  await session.mcp.connect(session.transport);
  return session.transport.handleRequest(req, res, body);
}

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    log(`error: ${e?.stack ?? e}`);
    jsonRpcError(res, 500, -32603, 'Internal server error');
  });
});

httpServer.listen(PORT, '127.0.0.1', () => {
  const port = httpServer.address().port;
  RESOURCE = `http://127.0.0.1:${port}/mcp`;
  METADATA_URL = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  log(`resource ${RESOURCE}; issuer ${ISSUER}; required scope "${REQUIRED_SCOPES.join(' ')}"; admin scope ${ADMIN_SCOPE}`);
  process.stdout.write(`LISTENING ${port}\n`);
});

const shutdown = async () => {
  for (const s of sessions.values()) await s.transport.close().catch(() => {});
  httpServer.closeAllConnections?.();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
