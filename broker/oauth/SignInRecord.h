#pragma once

#include "Result.h"
#include "oauth/AuthorizationServerMetadata.h"

#include <QByteArray>
#include <QString>

namespace mcpbroker::oauth {

// What the broker remembers of where it signed in to one server: the authorization server's
// endpoints and the resource the tokens are for. Kept in the keychain next to the tokens
// (SecretKeys::oauthSession), so that after a restart the tokens are found, refreshed and
// revoked without asking the network first. Holds no secret.
struct SignInRecord
{
    AuthorizationServerMetadata server; // issuer, token, revocation endpoint, auth methods
    QString resource;

    QByteArray toJson() const;
    // InvalidInput for anything toJson() did not write.
    static Result<SignInRecord> fromJson(const QByteArray &json);
};

} // namespace mcpbroker::oauth
