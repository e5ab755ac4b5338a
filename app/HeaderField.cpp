#include "HeaderField.h"

#include <QRegularExpression>
#include <QStringList>

#include <algorithm>

namespace mcpbroker::app {

namespace {

Error invalid(QString sentence)
{
    sentence[0] = sentence.at(0).toUpper();
    return Error::make(Error::Kind::InvalidInput, sentence);
}

} // namespace

Result<void> HeaderField::validateName(const QString &name)
{
    static const QRegularExpression token(QStringLiteral("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"));
    if (!token.match(name).hasMatch()) {
        return invalid(QStringLiteral("\"%1\" is not a valid HTTP header name: use letters, "
                                      "digits and - (for example X-Api-Key).")
                               .arg(name));
    }
    // Headers the broker sets itself on every upstream request (HTTP framing and MCP's
    // Streamable HTTP transport): a secret value there would break the connection.
    static const QStringList reserved = {
            QStringLiteral("host"),           QStringLiteral("content-length"),
            QStringLiteral("content-type"),   QStringLiteral("transfer-encoding"),
            QStringLiteral("connection"),     QStringLiteral("accept"),
            QStringLiteral("mcp-session-id"), QStringLiteral("mcp-protocol-version"),
            QStringLiteral("last-event-id"),
    };
    if (reserved.contains(name.toLower())) {
        return invalid(QStringLiteral("The header \"%1\" is set by MCP Broker itself and cannot "
                                      "be a secret header.")
                               .arg(name));
    }
    return {};
}

Result<void> HeaderField::validateValue(const QByteArray &value, const QString &what)
{
    if (value.isEmpty())
        return invalid(QStringLiteral("%1 is empty.").arg(what));
    const bool hasControl = std::any_of(value.cbegin(), value.cend(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return (byte < 0x20 && byte != '\t') || byte == 0x7f;
    });
    if (hasControl) {
        return invalid(QStringLiteral("%1 contains a control character (such as a line break or "
                                      "NUL), which an HTTP header cannot carry.")
                               .arg(what));
    }
    return {};
}

} // namespace mcpbroker::app
