#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace mcpbroker::oauth {

// Proof Key for Code Exchange (RFC 7636), S256 only (MCP 2025-11-25 and OAuth 2.1 §4.1.1).
// The verifier is a secret: it stays in memory for one flow, is sent only in the token
// request, and is never logged. Wipe it (OPENSSL_cleanse) when the flow ends.
struct Pkce
{
    QByteArray verifier;  // 43 characters of base64url (32 bytes from the system CSPRNG)
    QByteArray challenge; // BASE64URL(SHA256(verifier)), no padding

    static constexpr QByteArrayView kMethod = "S256"; // code_challenge_method

    // A fresh verifier and its challenge.
    static Pkce generate();
    // RFC 7636 §4.2 S256 transformation of `verifier`.
    static QByteArray s256Challenge(QByteArrayView verifier);
    // RFC 7636 §4.1: 43 to 128 characters from [A-Z] [a-z] [0-9] "-" "." "_" "~".
    static bool isValidVerifier(QByteArrayView verifier);
    // A value for the `state` parameter: 32 bytes from the system CSPRNG, base64url (43 chars).
    static QByteArray randomState();
};

} // namespace mcpbroker::oauth
