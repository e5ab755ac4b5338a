#pragma once

#include "Result.h"
#include "gateway/ClientGrant.h"

#include <QHash>
#include <QList>

namespace mcpbroker::gateway {

// grants.json: the local clients' grants and OAuth registrations, nothing secret (the proofs
// are hashes in the keychain). Written atomically; a file that does not parse is an error and
// is never overwritten.
struct GrantFile
{
    QList<ClientGrant> grants;
    QList<LocalClientRegistration> clients;

    // A missing file is an empty one.
    static Result<GrantFile> read(const QString &path);
    Result<void> write(const QString &path) const;

    // grant-usage.json: when each grant was last used (written by the running broker only, so
    // that the CLI and the broker never both rewrite one file).
    static QHash<QString, QDateTime> readUsage(const QString &path);
    static Result<void> writeUsage(const QString &path, const QHash<QString, QDateTime> &usage);
};

} // namespace mcpbroker::gateway
