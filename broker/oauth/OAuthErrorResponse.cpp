#include "oauth/OAuthErrorResponse.h"

#include <nlohmann/json.hpp>

namespace mcpbroker::oauth {

namespace {

constexpr qsizetype kMaxErrorLength = 64;
constexpr qsizetype kMaxDescriptionLength = 300;
const QString kRedacted = QStringLiteral("[redacted]");

QString cleaned(QString text, const QList<QByteArray> &secrets, qsizetype maxLength)
{
    for (const QByteArray &secret : secrets) {
        if (!secret.isEmpty())
            text.replace(QString::fromUtf8(secret), kRedacted);
    }
    QString result;
    for (const QChar c : std::as_const(text)) {
        if (result.size() >= maxLength) {
            result += QChar(0x2026);
            break;
        }
        result += c.isPrint() ? c : QLatin1Char(' ');
    }
    return result.simplified();
}

} // namespace

std::optional<OAuthErrorResponse> OAuthErrorResponse::fromJson(const QByteArray &body,
                                                               const QList<QByteArray> &secrets)
{
    const nlohmann::json object = nlohmann::json::parse(body.cbegin(), body.cend(), nullptr, false);
    if (!object.is_object())
        return std::nullopt;
    const auto error = object.find("error");
    if (error == object.end() || !error->is_string())
        return std::nullopt;
    OAuthErrorResponse response;
    response.error =
            cleaned(QString::fromStdString(error->get<std::string>()), secrets, kMaxErrorLength);
    if (response.error.isEmpty())
        return std::nullopt;
    const auto description = object.find("error_description");
    if (description != object.end() && description->is_string()) {
        response.errorDescription = cleaned(QString::fromStdString(description->get<std::string>()),
                                            secrets, kMaxDescriptionLength);
    }
    return response;
}

QString OAuthErrorResponse::summary() const
{
    if (errorDescription.isEmpty())
        return error;
    QString description = errorDescription;
    while (description.endsWith(QLatin1Char('.')))
        description.chop(1);
    return QStringLiteral("%1: %2").arg(error, description);
}

} // namespace mcpbroker::oauth
