#!/usr/bin/env node
// OAuth authorization server for the broker's upstream OAuth tests.
//
// A real, certified authorization server (oidc-provider) configured the way an
// MCP client sees one under the MCP authorization spec 2025-11-25:
//
//   node oauth-authorization-server.mjs [--port N] [--resource URL]...
//        [--access-token-ttl S] [--refresh-token-ttl S] [--scopes "a b c"]
//        [--client-id ID --client-secret SECRET [--client-auth client_secret_basic|client_secret_post]
//         [--client-redirect-uri URI]... [--client-credentials]]
//        [--no-s256] [--wrong-iss] [--lenient-client-auth]
//
// Listens on 127.0.0.1 (port from --port, else $PORT, else 0 = ephemeral); the
// issuer is http://127.0.0.1:<port>. Prints exactly one line "LISTENING <port>"
// on stdout when ready; everything else (oidc-provider's notices included) goes
// to stderr. No token, code, secret or verifier is ever logged.
//
// What it offers (see README.md for the details a client must respect):
// - RFC 8414 metadata at /.well-known/oauth-authorization-server and OpenID
//   discovery at /.well-known/openid-configuration (same document), with
//   code_challenge_methods_supported ["S256"]; PKCE is required for every client.
// - RFC 7591 dynamic client registration at /reg, open (no initial access token).
//   Native clients (application_type "native") may use http loopback redirect
//   URIs and any port matches (RFC 8252 7.3); web clients need an exact match.
// - RFC 8707 resource indicators: the access token is a JWT (typ at+jwt, RS256,
//   verifiable with /jwks) whose aud is the requested resource.
// - Refresh tokens for every client allowed the refresh_token grant (DCR clients
//   get it by default), no openid/offline_access needed; rotation on every use;
//   reuse of a rotated refresh token revokes the whole grant.
// - RFC 7009 revocation at /token/revocation; RFC 9207 iss in every
//   authorization response.
// - Login and consent pages at /interaction/<uid> that a script completes with
//   two form posts (oauth-browser.mjs does): any login, every requested scope
//   and resource granted.
// - Test hooks: GET /_test/stats (counters, and when each access token was issued),
//   POST /_test/revoke-all, POST /_test/reset-stats.

import http from 'node:http';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import * as querystring from 'node:querystring';
import { parseArgs } from 'node:util';

// oidc-provider prints its notices with console.info (stdout). stdout carries only
// the LISTENING line, so route the console to stderr before loading it.
for (const m of ['log', 'info', 'debug']) console[m] = (...a) => console.error(...a);

const { default: Provider, errors } = await import('oidc-provider');

// ---------------------------------------------------------------- options
const USAGE = `usage: oauth-authorization-server.mjs [--port N] [--resource URL]...
  [--access-token-ttl SECONDS] [--refresh-token-ttl SECONDS] [--scopes "mcp:read mcp:write mcp:admin"]
  [--client-id ID --client-secret SECRET [--client-auth client_secret_basic|client_secret_post]
   [--client-redirect-uri URI]... [--client-credentials]]
  [--no-s256] [--wrong-iss] [--lenient-client-auth]
`;
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      port: { type: 'string' },
      resource: { type: 'string', multiple: true, default: [] },
      'access-token-ttl': { type: 'string', default: '60' },
      'refresh-token-ttl': { type: 'string', default: String(14 * 24 * 3600) },
      scopes: { type: 'string', default: 'mcp:read mcp:write mcp:admin' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'client-auth': { type: 'string', default: 'client_secret_basic' },
      'client-redirect-uri': { type: 'string', multiple: true, default: [] },
      'client-credentials': { type: 'boolean', default: false },
      'no-s256': { type: 'boolean', default: false },
      'wrong-iss': { type: 'boolean', default: false },
      'lenient-client-auth': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }));
} catch (e) {
  process.stderr.write(`oauth-authorization-server: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  process.stderr.write(USAGE);
  process.exit(0);
}

const log = (...a) => process.stderr.write(`[oauth-as] ${a.join(' ')}\n`);
const fingerprint = (token) => `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
const die = (msg) => {
  process.stderr.write(`oauth-authorization-server: ${msg}\n${USAGE}`);
  process.exit(2);
};

const PORT = Number(opts.port ?? process.env.PORT ?? 0);
const AT_TTL = Number(opts['access-token-ttl']);
const RT_TTL = Number(opts['refresh-token-ttl']);
const RS_SCOPES = opts.scopes.split(' ').filter(Boolean);
const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'];
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) die(`bad port ${opts.port ?? process.env.PORT}`);
if (!Number.isInteger(AT_TTL) || AT_TTL < 1) die('--access-token-ttl must be a positive integer');
if (!Number.isInteger(RT_TTL) || RT_TTL < 1) die('--refresh-token-ttl must be a positive integer');
if (Boolean(opts['client-id']) !== Boolean(opts['client-secret'])) die('--client-id and --client-secret go together');
if (!['client_secret_basic', 'client_secret_post'].includes(opts['client-auth'])) die('bad --client-auth');
for (const r of opts.resource) {
  if (!URL.canParse(r) || r.includes('#')) die(`--resource must be an absolute URL without fragment: ${r}`);
}

// Resource indicators the server accepts: exactly the --resource values when
// given, else any http(s) URL on a loopback host.
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
function resourceAccepted(indicator) {
  if (opts.resource.length) return opts.resource.includes(indicator);
  const u = URL.parse(indicator);
  return !!u && ['http:', 'https:'].includes(u.protocol) && LOOPBACK.has(u.hostname) && !u.hash;
}

// ---------------------------------------------------------------- storage
// In-memory adapter (one Map for every model) so that /_test/revoke-all can drop
// every refresh token and grant at once.
const store = new Map(); // "<Model>:<id>" -> { model, payload, expiresAt }
const now = () => Date.now();

class TestAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    store.set(this.key(id), {
      model: this.model,
      payload,
      expiresAt: typeof expiresIn === 'number' ? now() + expiresIn * 1000 : Infinity,
    });
  }

  #live(key) {
    const entry = store.get(key);
    if (!entry) return undefined;
    // Keep entries 60 s past expiry: oidc-provider reports "expired" itself.
    if (entry.expiresAt + 60_000 < now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  async find(id) {
    return this.#live(this.key(id));
  }

  #findBy(field, value) {
    for (const [key, entry] of store) {
      if (entry.model === this.model && entry.payload[field] === value) return this.#live(key);
    }
    return undefined;
  }

  async findByUid(uid) {
    return this.#findBy('uid', uid);
  }

  async findByUserCode(userCode) {
    return this.#findBy('userCode', userCode);
  }

  async consume(id) {
    const payload = this.#live(this.key(id));
    if (payload) payload.consumed = Math.floor(now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const [key, entry] of store) {
      if (entry.payload.grantId === grantId) store.delete(key);
    }
  }
}

// ---------------------------------------------------------------- stats
const stats = {
  registrations: 0,
  authorizations: { success: 0, error: 0 },
  token: {}, // grant_type -> { requests, success, error }
  revocations: { requests: 0, success: 0, error: 0, byHint: {} },
  revokeAll: 0,
  issued: [], // every access token issued: { grantType, atMs, expiresIn, clientId, token } (newest last)
};
const ISSUED_KEPT = 5000;
const resetStats = () => {
  stats.registrations = 0;
  stats.authorizations = { success: 0, error: 0 };
  stats.token = {};
  stats.revocations = { requests: 0, success: 0, error: 0, byHint: {} };
  stats.revokeAll = 0;
  stats.issued = [];
};

// ---------------------------------------------------------------- keys
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', use: 'sig', alg: 'RS256' };

// ---------------------------------------------------------------- provider
function createProvider(issuer) {
  const clients = [];
  if (opts['client-id']) {
    const redirectUris = opts['client-redirect-uri'].length
      ? opts['client-redirect-uri']
      : ['http://127.0.0.1/callback', 'http://localhost/callback'];
    clients.push({
      client_id: opts['client-id'],
      client_secret: opts['client-secret'],
      client_name: 'pre-registered test client',
      application_type: 'native',
      token_endpoint_auth_method: opts['client-auth'],
      redirect_uris: redirectUris,
      response_types: ['code'],
      grant_types: [
        'authorization_code',
        'refresh_token',
        ...(opts['client-credentials'] ? ['client_credentials'] : []),
      ],
    });
  }

  const provider = new Provider(issuer, {
    adapter: TestAdapter,
    clients,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // RFC 8414 `scopes_supported`; DCR `scope` metadata may only use these.
    scopes: ['openid', 'offline_access', ...RS_SCOPES],
    clientAuthMethods: CLIENT_AUTH_METHODS,
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      id_token_signed_response_alg: 'RS256',
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    // A generic OAuth client gets a refresh token with the authorization_code
    // grant: no openid / offline_access / prompt=consent needed.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    expiresWithSession: async () => false,
    ttl: {
      AccessToken: AT_TTL,
      ClientCredentials: AT_TTL,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: RT_TTL,
      Interaction: 600,
      Session: 3600,
      Grant: RT_TTL,
    },
    clientBasedCORS: () => false,
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Authorization error', Object.entries(out).map(([k, v]) => `<p><b>${esc(k)}</b>: ${esc(v)}</p>`).join('\n'));
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      registration: { enabled: true, initialAccessToken: false },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (!resourceAccepted(indicator)) throw new errors.InvalidTarget();
          return {
            scope: RS_SCOPES.join(' '),
            audience: indicator,
            accessTokenTTL: AT_TTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });

  // ----- events (no token values: only counts and kinds)
  provider.on('registration_create.success', () => stats.registrations++);
  provider.on('authorization.success', () => stats.authorizations.success++);
  // error_detail is oidc-provider's reason behind a generic description
  // ("grant request is invalid" ← "refresh token already used").
  const describe = (err) =>
    `${err.error ?? err.name}${err.error_description ? ` (${err.error_description})` : ''}${err.error_detail ? ` [${err.error_detail}]` : ''}`;
  provider.on('authorization.error', (_ctx, err) => {
    stats.authorizations.error++;
    log(`authorization error: ${describe(err)}`);
  });
  provider.on('grant.error', (_ctx, err) => log(`token error: ${describe(err)}`));
  provider.on('revocation.error', (_ctx, err) => log(`revocation error: ${describe(err)}`));
  provider.on('server_error', (_ctx, err) => log(`server error: ${err?.stack ?? err}`));

  // ----- middleware in front of oidc-provider's routes
  provider.use(async (ctx, next) => {
    const path = ctx.path;
    if (path.startsWith('/_test/')) return testRoutes(ctx);
    if (path.startsWith('/interaction/')) return interactionRoutes(provider, ctx);

    const clientAuthed = (path === '/token' || path === '/token/revocation') && ctx.method === 'POST';
    let form;
    if (clientAuthed) {
      // Read the form here to count by grant_type and to hold clients to their
      // registered auth method; oidc-provider then takes ctx.request.body (and
      // says once on stderr "already parsed request body detected": expected).
      form = {};
      if (ctx.is('application/x-www-form-urlencoded')) {
        form = await readForm(ctx);
        ctx.request.body = form;
      }
      if (!(await clientAuthMatches(provider, ctx, form))) return;
    }

    await next();

    if (path === '/token' && ctx.method === 'POST') {
      countToken(String(form.grant_type ?? 'none'), ctx.status);
      if (ctx.status === 200) noteIssued(ctx, String(form.grant_type ?? 'none'));
    } else if (path === '/token/revocation' && ctx.method === 'POST') {
      countRevocation(form.token_type_hint, ctx.status);
    } else if (path === '/reg' && ctx.method === 'POST') {
      log(`POST /reg -> ${ctx.status}`);
    }

    if (
      (path === '/.well-known/oauth-authorization-server' || path === '/.well-known/openid-configuration') &&
      ctx.status === 200 && ctx.body && typeof ctx.body === 'object'
    ) {
      // oidc-provider authenticates clients at the revocation endpoint like at the
      // token endpoint; say so (RFC 8414's default would be client_secret_basic only).
      ctx.body.revocation_endpoint_auth_methods_supported = ctx.body.token_endpoint_auth_methods_supported;
      if (opts['no-s256']) delete ctx.body.code_challenge_methods_supported;
    }

    // --wrong-iss: the authorization response (success or error) names another issuer.
    if (opts['wrong-iss'] && ctx.status >= 300 && ctx.status < 400) {
      const location = ctx.response.get('Location');
      const u = location && URL.parse(location);
      if (u && u.searchParams.has('iss') && u.searchParams.get('iss') === issuer) {
        u.searchParams.set('iss', 'https://wrong-issuer.invalid');
        ctx.set('Location', u.href);
      }
    }
  });

  return provider;
}

function countToken(grantType, status) {
  const entry = (stats.token[grantType] ??= { requests: 0, success: 0, error: 0 });
  entry.requests++;
  if (status === 200) entry.success++;
  else entry.error++;
  log(`POST /token grant_type=${grantType} -> ${status}`);
}

// When each access token was issued and for how long: lets a test see how often a client
// refreshes and how old the token it replaced was. No token values: `token` is the
// fingerprint oauth-protected-server.mjs reports too (sha256:<first 16 hex digits>).
function noteIssued(ctx, grantType) {
  const body = ctx.body && typeof ctx.body === 'object' ? ctx.body : {};
  const token = typeof body.access_token === 'string' ? fingerprint(body.access_token) : undefined;
  stats.issued.push({ grantType, atMs: Date.now(), expiresIn: body.expires_in, clientId: ctx.oidc?.client?.clientId, token });
  if (stats.issued.length > ISSUED_KEPT) stats.issued.shift();
}

function countRevocation(hint, status) {
  stats.revocations.requests++;
  if (status === 200) stats.revocations.success++;
  else stats.revocations.error++;
  const key = String(hint ?? 'none');
  stats.revocations.byHint[key] = (stats.revocations.byHint[key] ?? 0) + 1;
  log(`POST /token/revocation token_type_hint=${key} -> ${status}`);
}

// oidc-provider accepts client_secret_basic and client_secret_post alike for a
// client registered with either. Real servers are stricter, and tests want to see
// the broker use the registered method, so refuse the other one (unless
// --lenient-client-auth).
async function clientAuthMatches(provider, ctx, form) {
  if (opts['lenient-client-auth']) return true;
  const header = ctx.get('authorization');
  let used = 'none';
  let clientId = form.client_id;
  if (/^basic /i.test(header)) {
    used = 'client_secret_basic';
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) {
      try {
        clientId = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' '));
      } catch {
        return true; // malformed: oidc-provider answers it
      }
    }
  } else if (form.client_secret !== undefined) {
    used = 'client_secret_post';
  }
  if (typeof clientId !== 'string' || !clientId) return true;
  const client = await provider.Client.find(clientId).catch(() => undefined);
  const registered = client?.tokenEndpointAuthMethod;
  if (!registered || !['client_secret_basic', 'client_secret_post'].includes(registered) || used === registered) {
    return true;
  }
  log(`${ctx.path}: client authenticated with ${used}, registered for ${registered} -> 401`);
  if (ctx.path === '/token') countToken(String(form.grant_type ?? 'none'), 401);
  else countRevocation(form.token_type_hint, 401);
  ctx.status = 401;
  if (used === 'client_secret_basic') ctx.set('WWW-Authenticate', 'Basic realm="token"');
  ctx.set('Cache-Control', 'no-store');
  ctx.body = {
    error: 'invalid_client',
    error_description: `client authentication failed: registered method is ${registered}, the request used ${used}`,
  };
  return false;
}

// ---------------------------------------------------------------- test routes
async function testRoutes(ctx) {
  ctx.set('Cache-Control', 'no-store');
  if (ctx.path === '/_test/stats' && ctx.method === 'GET') {
    const live = {};
    for (const { model, payload, expiresAt } of store.values()) {
      if (expiresAt < now() || payload.consumed) continue;
      live[model] = (live[model] ?? 0) + 1;
    }
    ctx.body = { ...stats, live };
    return;
  }
  if (ctx.path === '/_test/revoke-all' && ctx.method === 'POST') {
    const dropped = {};
    for (const [key, { model }] of store) {
      if (['RefreshToken', 'Grant', 'AuthorizationCode', 'AccessToken', 'ClientCredentials'].includes(model)) {
        store.delete(key);
        dropped[model] = (dropped[model] ?? 0) + 1;
      }
    }
    stats.revokeAll++;
    log(`revoke-all: ${JSON.stringify(dropped)}`);
    ctx.body = { revoked: dropped };
    return;
  }
  if (ctx.path === '/_test/reset-stats' && ctx.method === 'POST') {
    resetStats();
    ctx.body = { ok: true };
    return;
  }
  ctx.status = 404;
  ctx.body = { error: 'not_found' };
}

// ---------------------------------------------------------------- interactions
const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function page(title, body) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>`;
}

async function readForm(ctx) {
  const chunks = [];
  for await (const c of ctx.req) chunks.push(c);
  return querystring.parse(Buffer.concat(chunks).toString('utf8'));
}

async function interactionRoutes(provider, ctx) {
  ctx.set('Cache-Control', 'no-store');
  const m = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(ctx.path);
  if (!m) {
    ctx.status = 404;
    return;
  }
  const [, uid, action] = m;
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (e) {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = page('Sign-in expired', `<p>${esc(e.error_description ?? e.message)}</p>`);
    return;
  }
  if (details.uid !== uid) {
    ctx.status = 400;
    ctx.body = 'interaction mismatch';
    return;
  }
  const { prompt, params, session, grantId } = details;

  if (!action && ctx.method === 'GET') {
    ctx.type = 'html';
    const abort = `<form id="deny" method="post" action="/interaction/${esc(uid)}/abort"><button type="submit">Deny</button></form>`;
    if (prompt.name === 'login') {
      ctx.body = page(
        'Sign-in',
        `<p>Client <code>${esc(params.client_id)}</code> asks you to sign in. Any login works.</p>
<form id="login" method="post" action="/interaction/${esc(uid)}/login">
<input type="text" name="login" value="test-user">
<button type="submit">Sign in</button>
</form>
${abort}`,
      );
    } else {
      const resources = [].concat(params.resource ?? []);
      ctx.body = page(
        'Authorize',
        `<p>Client <code>${esc(params.client_id)}</code> asks for scope <code>${esc(params.scope ?? '')}</code>
on <code>${esc(resources.join(' '))}</code>.</p>
<form id="consent" method="post" action="/interaction/${esc(uid)}/confirm">
<button type="submit">Allow</button>
</form>
${abort}`,
      );
    }
    return;
  }
  if (ctx.method !== 'POST') {
    ctx.status = 405;
    return;
  }

  let result;
  let merge = false;
  if (action === 'login' && prompt.name === 'login') {
    const form = await readForm(ctx);
    const login = String(form.login ?? '').trim() || 'test-user';
    result = { login: { accountId: login } };
    log(`interaction ${prompt.name}: signed in`);
  } else if (action === 'confirm' && prompt.name === 'consent') {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    result = { consent: { grantId: await grant.save() } };
    merge = true;
    log(`interaction consent: granted`);
  } else if (action === 'abort') {
    result = { error: 'access_denied', error_description: 'End-User denied the request' };
    log(`interaction ${prompt.name}: denied`);
  } else {
    ctx.status = 400;
    ctx.body = `unexpected ${action} for prompt ${prompt.name}`;
    return;
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

// ---------------------------------------------------------------- HTTP
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const httpServer = http.createServer((req, res) => handler(req, res));
httpServer.listen(PORT, '127.0.0.1', () => {
  const port = httpServer.address().port;
  const issuer = `http://127.0.0.1:${port}`;
  const provider = createProvider(issuer);
  handler = provider.callback();
  log(
    `issuer ${issuer}; access token ttl ${AT_TTL}s; resources ${opts.resource.length ? opts.resource.join(' ') : 'any loopback URL'}` +
      `${opts['client-id'] ? `; pre-registered client ${opts['client-id']} (${opts['client-auth']}${opts['client-credentials'] ? ', client_credentials' : ''})` : ''}` +
      `${opts['no-s256'] ? '; metadata WITHOUT code_challenge_methods_supported' : ''}` +
      `${opts['wrong-iss'] ? '; authorization responses carry a WRONG iss' : ''}`,
  );
  process.stdout.write(`LISTENING ${port}\n`);
});

const shutdown = () => {
  httpServer.closeAllConnections?.();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
