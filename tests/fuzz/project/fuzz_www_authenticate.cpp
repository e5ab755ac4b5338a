// WWW-Authenticate parsing (broker/oauth/WwwAuthenticate): the header of an upstream's 401 or
// 403, which starts MCP authorization (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9728 §5.1).
// Properties, besides no crash, UB or leak:
// - an error means no challenge at all, with a sentence; success means at least one;
// - schemes and parameter names are lower-case tokens, a parameter name occurs once per
//   challenge, a challenge has a token68 or parameters, never both;
// - the challenges written back in canonical form (quoted values) parse to the same challenges;
// - bearer() reports the parameters of the first Bearer challenge, or NotFound.

#include "FuzzSupport.h"

#include "oauth/WwwAuthenticate.h"

#include <QSet>

using namespace mcpbroker;
using oauth::AuthChallenge;
using oauth::WwwAuthenticate;

namespace {

bool isLowerToken(const QString &text)
{
    if (text.isEmpty())
        return false;
    for (const QChar c : text) {
        const char latin = c.toLatin1();
        const bool ok = (latin >= '0' && latin <= '9') || (latin >= 'a' && latin <= 'z')
                || (latin != 0 && QByteArrayView("!#$%&'*+-.^_`|~").contains(latin));
        if (!ok || c.unicode() > 0x7f)
            return false;
    }
    return true;
}

QByteArray quoted(const QString &value)
{
    QByteArray out = "\"";
    for (const char c : value.toUtf8()) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + '"';
}

QByteArray canonical(const QList<AuthChallenge> &challenges)
{
    QList<QByteArray> parts;
    for (const AuthChallenge &challenge : challenges) {
        QByteArray text = challenge.scheme.toLatin1();
        if (!challenge.token68.isEmpty())
            text += ' ' + challenge.token68.toLatin1();
        QList<QByteArray> params;
        for (const auto &[name, value] : challenge.params)
            params.append(name.toLatin1() + '=' + quoted(value));
        if (!params.isEmpty())
            text += ' ' + params.join(", ");
        parts.append(text);
    }
    return parts.join(", ");
}

bool sameChallenges(const QList<AuthChallenge> &a, const QList<AuthChallenge> &b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a[i].scheme != b[i].scheme || a[i].token68 != b[i].token68
            || a[i].params != b[i].params)
            return false;
    }
    return true;
}

void checkChallenges(const QList<AuthChallenge> &challenges)
{
    FUZZ_CHECK(!challenges.isEmpty());
    for (const AuthChallenge &challenge : challenges) {
        FUZZ_CHECK(isLowerToken(challenge.scheme));
        FUZZ_CHECK(challenge.token68.isEmpty() || challenge.params.isEmpty());
        QSet<QString> names;
        for (const auto &[name, value] : challenge.params) {
            FUZZ_CHECK(isLowerToken(name));
            FUZZ_CHECK(!names.contains(name));
            names.insert(name);
            FUZZ_CHECK(challenge.param(name.toUpper()) == value);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView header = fuzz::bytesOf(data, size);
    const Result<QList<AuthChallenge>> parsed = WwwAuthenticate::parse(header);
    const Result<oauth::BearerChallenge> bearer = WwwAuthenticate::bearer(header);
    if (!parsed) {
        FUZZ_CHECK(parsed.error().kind == Error::Kind::Protocol);
        FUZZ_CHECK(!parsed.error().message.isEmpty());
        FUZZ_CHECK(!bearer && bearer.error().kind == Error::Kind::Protocol);
        return 0;
    }
    const QList<AuthChallenge> &challenges = parsed.value();
    checkChallenges(challenges);

    const Result<QList<AuthChallenge>> again = WwwAuthenticate::parse(canonical(challenges));
    FUZZ_CHECK(again && sameChallenges(again.value(), challenges));

    const AuthChallenge *first = nullptr;
    for (const AuthChallenge &challenge : challenges) {
        if (challenge.scheme == QLatin1String("bearer")) {
            first = &challenge;
            break;
        }
    }
    FUZZ_CHECK(bool(bearer) == (first != nullptr));
    if (!first) {
        FUZZ_CHECK(bearer.error().kind == Error::Kind::NotFound);
        return 0;
    }
    const oauth::BearerChallenge &read = bearer.value();
    FUZZ_CHECK(read.realm == first->param(u"realm"));
    FUZZ_CHECK(read.resourceMetadata == first->param(u"resource_metadata"));
    FUZZ_CHECK(read.scope == first->param(u"scope"));
    FUZZ_CHECK(read.error == first->param(u"error"));
    FUZZ_CHECK(read.errorDescription == first->param(u"error_description"));
    FUZZ_CHECK(!read.scopes().contains(QString()));
    return 0;
}
