#include "oauth/WwwAuthenticate.h"

#include <algorithm>
#include <optional>

namespace mcpbroker::oauth {

namespace {

// RFC 9110 §5.6.2 tchar.
bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

// RFC 9110 §11.2 token68, without its trailing "=" padding.
bool isToken68Char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
            || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

bool isWhitespace(char c)
{
    return c == ' ' || c == '\t';
}

// RFC 9110 §5.6.4: qdtext, and what may follow a backslash in a quoted-pair.
bool isQuotedTextChar(uchar c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B)
            || (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}

bool isQuotedPairChar(uchar c)
{
    return c == '\t' || (c >= 0x20 && c <= 0x7E) || c >= 0x80;
}

// A single-pass reader of the challenge list. On a syntax error it records why and where, and
// keeps the challenges (and the parameters of the current one) read so far.
class ChallengeReader
{
public:
    explicit ChallengeReader(QByteArrayView text) : m_text(text) { }

    QList<AuthChallenge> readAll()
    {
        for (;;) {
            skipListSeparators();
            if (atEnd())
                break;
            AuthChallenge challenge;
            const bool complete = readChallenge(challenge);
            if (!challenge.scheme.isEmpty())
                m_challenges.append(challenge);
            if (!complete)
                break;
        }
        return m_challenges;
    }

    const QString &failure() const { return m_failure; }

private:
    bool atEnd() const { return m_pos >= m_text.size(); }
    char peek() const { return atEnd() ? '\0' : m_text[m_pos]; }

    void skipWhitespace()
    {
        while (!atEnd() && isWhitespace(peek()))
            ++m_pos;
    }

    // The #rule allows empty list elements: ", , Bearer" is one challenge.
    void skipListSeparators()
    {
        for (;;) {
            skipWhitespace();
            if (peek() != ',')
                return;
            ++m_pos;
        }
    }

    bool fail(const char *why)
    {
        if (m_failure.isEmpty())
            m_failure = QStringLiteral("%1 at character %2").arg(QLatin1String(why)).arg(m_pos + 1);
        return false;
    }

    QByteArrayView readToken()
    {
        const qsizetype start = m_pos;
        while (!atEnd() && isTokenChar(peek()))
            ++m_pos;
        return m_text.sliced(start, m_pos - start);
    }

    // token68 stands alone after the scheme: it must be followed by the end or a comma.
    std::optional<QByteArrayView> readToken68()
    {
        const qsizetype start = m_pos;
        while (!atEnd() && isToken68Char(peek()))
            ++m_pos;
        if (m_pos == start) {
            m_pos = start;
            return std::nullopt;
        }
        while (peek() == '=')
            ++m_pos;
        const qsizetype end = m_pos;
        skipWhitespace();
        if (atEnd() || peek() == ',')
            return m_text.sliced(start, end - start);
        m_pos = start;
        return std::nullopt;
    }

    bool readQuotedString(QByteArray &value)
    {
        ++m_pos; // opening quote
        for (;;) {
            if (atEnd())
                return fail("unterminated quoted string");
            const uchar c = uchar(peek());
            ++m_pos;
            if (c == '"')
                return true;
            if (c == '\\') {
                if (atEnd() || !isQuotedPairChar(uchar(peek())))
                    return fail("invalid escape in quoted string");
                value += peek();
                ++m_pos;
            } else if (isQuotedTextChar(c)) {
                value += char(c);
            } else {
                --m_pos;
                return fail("control character in quoted string");
            }
        }
    }

    bool readParam(AuthChallenge &challenge)
    {
        const QByteArrayView name = readToken();
        if (name.isEmpty())
            return fail("expected a parameter name");
        skipWhitespace();
        if (peek() != '=')
            return fail("expected '=' after a parameter name");
        ++m_pos;
        skipWhitespace();
        QByteArray value;
        if (peek() == '"') {
            if (!readQuotedString(value))
                return false;
        } else {
            value = readToken().toByteArray();
            if (value.isEmpty())
                return fail("expected a parameter value");
        }
        const QString lowerName = QString::fromLatin1(name).toLower();
        // RFC 9110 §11.2: each parameter name occurs only once per challenge. A second one
        // makes the challenge ambiguous; we keep the first and stop there. By name: a first
        // value of "" counts too.
        const bool repeated
                = std::any_of(challenge.params.cbegin(), challenge.params.cend(),
                              [&](const auto &param) { return param.first == lowerName; });
        if (repeated)
            return fail("repeated parameter");
        // "" is a value that is there: an empty string, never the null string of an absent one.
        QString text = QString::fromUtf8(value);
        if (text.isNull())
            text = QLatin1String("");
        challenge.params.append({lowerName, text});
        return true;
    }

    // Reads one challenge starting at its scheme. Returns false on a syntax error (with
    // `challenge` holding what was read).
    bool readChallenge(AuthChallenge &challenge)
    {
        const QByteArrayView scheme = readToken();
        if (scheme.isEmpty())
            return fail("expected an authentication scheme");
        challenge.scheme = QString::fromLatin1(scheme).toLower();

        const qsizetype afterScheme = m_pos;
        skipWhitespace();
        if (atEnd() || peek() == ',')
            return true; // a bare scheme
        if (m_pos == afterScheme)
            return fail("expected a space after the authentication scheme");

        if (const auto token68 = readToken68()) {
            challenge.token68 = QString::fromLatin1(*token68);
            return true;
        }

        if (!readParam(challenge))
            return false;
        for (;;) {
            skipWhitespace();
            if (atEnd())
                return true;
            if (peek() != ',')
                return fail("expected ',' between parameters");
            skipListSeparators();
            if (atEnd())
                return true;
            // "name =" continues this challenge; any other token starts the next one.
            const qsizetype elementStart = m_pos;
            const bool isToken = !readToken().isEmpty();
            skipWhitespace();
            const bool isParam = isToken && peek() == '=';
            m_pos = elementStart;
            if (!isParam)
                return true;
            if (!readParam(challenge))
                return false;
        }
    }

    QByteArrayView m_text;
    qsizetype m_pos = 0;
    QList<AuthChallenge> m_challenges;
    QString m_failure;
};

} // namespace

QString AuthChallenge::param(QStringView name) const
{
    for (const auto &[key, value] : params) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

QStringList BearerChallenge::scopes() const
{
    return scope.split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

Result<QList<AuthChallenge>> WwwAuthenticate::parse(QByteArrayView headerValue)
{
    ChallengeReader reader(headerValue);
    QList<AuthChallenge> challenges = reader.readAll();
    if (challenges.isEmpty()) {
        const QString why
                = reader.failure().isEmpty() ? QStringLiteral("it is empty") : reader.failure();
        return Error::make(Error::Kind::Protocol,
                           QStringLiteral("The server's WWW-Authenticate header could not be "
                                          "read (%1).")
                                   .arg(why));
    }
    return challenges;
}

Result<BearerChallenge> WwwAuthenticate::bearer(QByteArrayView headerValue)
{
    Result<QList<AuthChallenge>> challenges = parse(headerValue);
    if (!challenges)
        return challenges.error();
    for (const AuthChallenge &challenge : challenges.value()) {
        if (challenge.scheme != QLatin1String("bearer"))
            continue;
        BearerChallenge bearer;
        bearer.realm = challenge.param(u"realm");
        bearer.resourceMetadata = challenge.param(u"resource_metadata");
        bearer.scope = challenge.param(u"scope");
        bearer.error = challenge.param(u"error");
        bearer.errorDescription = challenge.param(u"error_description");
        return bearer;
    }
    return Error::make(Error::Kind::NotFound,
                       QStringLiteral("The server asked for authentication, but not with an "
                                      "OAuth Bearer token, which is the only kind MCP Broker "
                                      "can sign in for."));
}

} // namespace mcpbroker::oauth
