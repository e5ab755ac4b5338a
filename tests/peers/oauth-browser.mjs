#!/usr/bin/env node
// A "system browser" for the broker's OAuth tests.
//
//   BROWSER=/path/to/oauth-browser.mjs  (the broker runs `$BROWSER <authorization-url>`)
//   node oauth-browser.mjs AUTHORIZATION_URL
//
// Opens the authorization URL with a fresh cookie jar, follows redirects, and on
// every HTML page it meets submits the page's form (oauth-authorization-server.mjs
// shows a sign-in form, then a consent form) until a redirect leads to the
// `redirect_uri` of the authorization request (the broker's loopback listener).
// It GETs that callback URL and exits 0 if the answer is 200, else 1 (2 = usage).
// An authorization server that redirects at once (the conformance suite's) works too.
//
// Environment:
//   MCPB_BROWSER_LOG=FILE      append one line per launch, when it ends:
//                              "<UTC time> <pid> <scheme://host:port/path> -> <outcome>"
//   MCPB_BROWSER_TAMPER=state  change the callback's `state` before calling it (also: code, iss, no-iss)
//   MCPB_BROWSER_ACTION=deny   press "Deny" (the callback then carries error=access_denied)
//   MCPB_BROWSER_LOGIN=NAME    the login to type (default test-user): the token's subject
//
// It never prints a query string, code, state or token: stderr only gets
// scheme://host:port/path and status codes.

import { appendFileSync } from 'node:fs';

const MAX_STEPS = 20;
const TIMEOUT_MS = 10_000;

const bare = (u) => {
  try {
    const p = new URL(u);
    return `${p.protocol}//${p.host}${p.pathname}`;
  } catch {
    return '<unparsable URL>';
  }
};
const log = (msg) => process.stderr.write(`[oauth-browser] ${msg}\n`);

const target = process.argv[2];
if (!target || process.argv.length > 3 || !URL.canParse(target)) {
  process.stderr.write('usage: oauth-browser.mjs AUTHORIZATION_URL\n');
  process.exit(2);
}

// One line per launch, written when it ends, in redirect-browser.sh's format:
// "<UTC time> <pid> <scheme://host:port/path> -> <outcome>".
function note(outcome) {
  outcome = String(outcome).replace(/\?\S*/g, ''); // never a query, even in an error message
  log(`${bare(target)} -> ${outcome}`);
  if (!process.env.MCPB_BROWSER_LOG) return;
  try {
    appendFileSync(process.env.MCPB_BROWSER_LOG, `${new Date().toISOString()} ${process.pid} ${bare(target)} -> ${outcome}\n`);
  } catch (e) {
    log(`cannot write MCPB_BROWSER_LOG: ${e.message}`);
  }
}

const redirectUri = new URL(target).searchParams.get('redirect_uri');
const isCallback = (u) => (redirectUri ? bare(u) === bare(redirectUri) : new URL(u).origin !== new URL(target).origin);

// ---------------------------------------------------------------- cookie jar
// Enough of RFC 6265 for one origin: name, value, path (prefix match), expiry.
const jar = new Map(); // `${host}|${path}|${name}` -> { host, path, name, value }

function storeCookies(url, res) {
  const u = new URL(url);
  for (const line of res.headers.getSetCookie?.() ?? []) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 1) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = u.pathname.replace(/\/[^/]*$/, '') || '/';
    let expired = value === '';
    for (const attr of attrs) {
      const [k, v = ''] = attr.split('=').map((s) => s.trim());
      const key = k.toLowerCase();
      if (key === 'path' && v.startsWith('/')) path = v;
      else if (key === 'max-age' && Number(v) <= 0) expired = true;
      else if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
    }
    const id = `${u.host}|${path}|${name}`;
    if (expired) jar.delete(id);
    else jar.set(id, { host: u.host, path, name, value });
  }
}

function cookieHeader(url) {
  const u = new URL(url);
  const pathMatches = (p) =>
    u.pathname === p || (u.pathname.startsWith(p) && (p.endsWith('/') || u.pathname[p.length] === '/'));
  return [...jar.values()]
    .filter((c) => c.host === u.host && pathMatches(c.path))
    .sort((a, b) => b.path.length - a.path.length)
    .map((c) => `${c.name}=${c.value}`)
    .join('; ');
}

async function request(url, { method = 'GET', form } = {}) {
  const headers = { Accept: 'text/html,application/json;q=0.9,*/*;q=0.8', 'User-Agent': 'mcp-broker-test-browser' };
  const cookie = cookieHeader(url);
  if (cookie) headers.Cookie = cookie;
  let body;
  if (form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  storeCookies(url, res);
  log(`${method} ${bare(url)} -> ${res.status}`);
  return res;
}

// ---------------------------------------------------------------- HTML forms
const decode = (s) =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]);
const attr = (tag, name) => {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? decode(m[2] ?? m[3] ?? m[4]) : undefined;
};

function parseForms(html, base) {
  const forms = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const tag = m[1];
    const fields = {};
    for (const input of m[2].matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input[0], 'name');
      if (name) fields[name] = attr(input[0], 'value') ?? '';
    }
    forms.push({
      id: attr(tag, 'id'),
      method: (attr(tag, 'method') ?? 'GET').toUpperCase(),
      action: new URL(attr(tag, 'action') ?? base, base).href,
      fields,
    });
  }
  return forms;
}

function chooseForm(forms) {
  const deny = process.env.MCPB_BROWSER_ACTION === 'deny';
  const isDeny = (f) => f.id === 'deny' || /\/abort$/.test(new URL(f.action).pathname);
  return deny ? (forms.find(isDeny) ?? forms[0]) : (forms.find((f) => !isDeny(f)) ?? forms[0]);
}

function tamper(callbackUrl) {
  const what = process.env.MCPB_BROWSER_TAMPER;
  if (!what) return callbackUrl;
  const u = new URL(callbackUrl);
  if (what === 'no-iss') u.searchParams.delete('iss');
  else if (['state', 'code', 'iss'].includes(what)) {
    u.searchParams.set(what, `${u.searchParams.get(what) ?? ''}tampered`);
  } else {
    log(`unknown MCPB_BROWSER_TAMPER=${what}; ignored`);
    return callbackUrl;
  }
  log(`tampered with ${what}`);
  return u.href;
}

// ---------------------------------------------------------------- main
async function main() {
  let url = target;
  let next = { method: 'GET' };
  for (let step = 0; step < MAX_STEPS; step++) {
    if (isCallback(url)) {
      const res = await request(tamper(url));
      await res.arrayBuffer().catch(() => {});
      return stop(res.status === 200 ? 0 : 1, `HTTP ${res.status} at ${bare(url)}`);
    }
    const res = await request(url, next);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer().catch(() => {});
      url = new URL(location, url).href;
      next = { method: 'GET' };
      continue;
    }
    const type = res.headers.get('content-type') ?? '';
    const body = await res.text();
    if (res.status !== 200 || !type.includes('html')) {
      return stop(1, `stopped: HTTP ${res.status} ${type.split(';')[0]} at ${bare(url)}`);
    }
    const forms = parseForms(body, url);
    if (!forms.length) return stop(1, `stopped: page without a form at ${bare(url)}`);
    const form = chooseForm(forms);
    if (process.env.MCPB_BROWSER_LOGIN && 'login' in form.fields) form.fields.login = process.env.MCPB_BROWSER_LOGIN;
    if (form.method === 'GET') {
      const u = new URL(form.action);
      for (const [k, v] of Object.entries(form.fields)) u.searchParams.set(k, v);
      url = u.href;
      next = { method: 'GET' };
    } else {
      url = form.action;
      next = { method: 'POST', form: form.fields };
    }
  }
  return stop(1, `stopped: more than ${MAX_STEPS} steps`);
}

function stop(code, outcome) {
  note(outcome);
  return code;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    note(`failed (${e?.name === 'TimeoutError' ? 'timed out' : (e?.cause?.code ?? e?.message ?? e)})`);
    process.exit(1);
  },
);
