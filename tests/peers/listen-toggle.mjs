// Preloaded into a peer (`node --import /abs/path/listen-toggle.mjs server.mjs …`) to play a
// server that goes down and comes back on the same port with its state intact, the way a real
// authorization server restarts with its database: SIGUSR1 closes every listening HTTP server of
// the process and drops its connections (clients then get "connection refused"); SIGUSR2 listens
// again on the same ports. Nothing else of the peer changes. One stderr line for each:
//
//   [listen-toggle] offline <port>…
//   [listen-toggle] online <port>…
//
// For tests only (tests/integration/tst_faults.cpp, through OAuthPeers).

import http from 'node:http';

const servers = []; // { server, port }
const listen = http.Server.prototype.listen;

http.Server.prototype.listen = function (...args) {
  const entry = { server: this, port: 0 };
  servers.push(entry);
  this.once('listening', () => {
    entry.port = this.address().port;
  });
  return listen.apply(this, args);
};

const report = (what) =>
  process.stderr.write(`[listen-toggle] ${what} ${servers.map((e) => e.port).join(' ')}\n`);

let keepAlive = null; // with no server listening, nothing else keeps the process alive

process.on('SIGUSR1', () => {
  keepAlive ??= setInterval(() => {}, 60_000);
  for (const { server } of servers) {
    server.close();
    server.closeAllConnections();
  }
  report('offline');
});

process.on('SIGUSR2', () => {
  let pending = servers.length;
  for (const entry of servers) {
    listen.call(entry.server, entry.port, '127.0.0.1', () => {
      if (--pending > 0) return;
      clearInterval(keepAlive);
      keepAlive = null;
      report('online');
    });
  }
});
