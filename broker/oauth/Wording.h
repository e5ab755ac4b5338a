#pragma once

#include <QString>
#include <QUrl>

// Small pieces of the sentences that OAuth errors are made of, so that every
// job words the same thing the same way.
namespace mcpbroker::oauth::Wording {

// `text` with its first letter upper case: for sentences that start with a
// subject such as "the authorization server https://auth.example.com".
QString sentence(QString text);
// Scheme, host and port of `url` as a person reads them, e.g.
// "https://auth.example.com".
QString origin(const QUrl &url);
// "the authorization server https://auth.example.com", named by one of its
// endpoints.
QString authorizationServer(const QUrl &endpoint);
// "1 second", "30 seconds": a timeout in milliseconds, rounded up to whole
// seconds.
QString seconds(int ms);

} // namespace mcpbroker::oauth::Wording
