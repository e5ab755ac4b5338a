// A Node preload (`node --require add-authorization.cjs …`, or NODE_OPTIONS) that makes a
// client program send MCP Broker's grant: every HTTP request it makes to one origin gets
//
//   Authorization: Bearer $MCPB_AUTHORIZATION_TOKEN
//
// unless it already carries an Authorization header. The origin is $MCPB_AUTHORIZATION_ORIGIN
// (e.g. http://127.0.0.1:8765); requests anywhere else are left alone, so the grant never
// reaches another server. Without MCPB_AUTHORIZATION_TOKEN it does nothing.
//
// This is a harness shim on the CLIENT side, for clients that cannot be told to send a header
// (the conformance suite's `server --url`) or only on their command line, where a secret must
// not go (inspector-cli's --header). It plays the user who types the header into a client's
// configuration; it stands in for no part of the broker, and the broker sees an ordinary
// request. It wraps the two ways those clients make requests:
//   - globalThis.fetch (the SDK's Streamable HTTP transport, the suite's own fetches);
//   - require('undici').request (the suite's raw requests, e.g. dns-rebinding-protection;
//     patched before the suite imports it, so its import sees the wrapper).
// The token is never printed; a misconfiguration is reported without it.
'use strict';

const token = process.env.MCPB_AUTHORIZATION_TOKEN;

function warn(message) {
  process.stderr.write(`add-authorization: ${message}\n`);
}

function originOf(url) {
  try {
    return new URL(String(url)).origin;
  } catch {
    return undefined;
  }
}

function install() {
  const origin = originOf(process.env.MCPB_AUTHORIZATION_ORIGIN);
  if (origin === undefined || origin === 'null') {
    warn('MCPB_AUTHORIZATION_ORIGIN is not an http(s) origin: no Authorization header is added');
    return;
  }
  const value = `Bearer ${token}`;
  const applies = (url) => url !== undefined && originOf(url) === origin;

  const originalFetch = globalThis.fetch;
  if (typeof originalFetch === 'function') {
    globalThis.fetch = function fetchWithAuthorization(input, init) {
      const url =
        typeof input === 'string' || input instanceof URL ? input : input && input.url;
      if (!applies(url)) return originalFetch.call(this, input, init);
      // fetch takes the headers of `init` when it has some, else those of a Request input.
      const headers = new Headers(
        init && init.headers !== undefined
          ? init.headers
          : typeof Request !== 'undefined' && input instanceof Request
            ? input.headers
            : undefined,
      );
      if (headers.has('authorization')) return originalFetch.call(this, input, init);
      headers.set('authorization', value);
      return originalFetch.call(this, input, { ...init, headers });
    };
  }

  let undici;
  try {
    undici = require(require.resolve('undici', { paths: [process.cwd(), __dirname] }));
  } catch {
    return; // not installed where this program looks: nothing to wrap
  }
  const originalRequest = undici.request;
  undici.request = function requestWithAuthorization(url, options, ...rest) {
    if (!applies(url instanceof URL || typeof url === 'string' ? url : undefined))
      return originalRequest.call(this, url, options, ...rest);
    const opts = options ?? {};
    let headers = opts.headers ?? {};
    if (!Array.isArray(headers) && typeof headers[Symbol.iterator] === 'function')
      headers = [...headers].flat(); // Headers, Map: [[name, value], …]
    if (Array.isArray(headers)) {
      // [name, value, name, value, …]
      for (let i = 0; i < headers.length; i += 2) {
        if (String(headers[i]).toLowerCase() === 'authorization')
          return originalRequest.call(this, url, options, ...rest);
      }
      return originalRequest.call(this, url, { ...opts, headers: [...headers, 'authorization', value] }, ...rest);
    }
    if (typeof headers !== 'object') return originalRequest.call(this, url, options, ...rest);
    if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization'))
      return originalRequest.call(this, url, options, ...rest);
    return originalRequest.call(this, url, { ...opts, headers: { ...headers, authorization: value } }, ...rest);
  };
}

if (token) install();
