#include "oauth/Wording.h"

namespace mcpbroker::oauth::Wording {

QString sentence(QString text)
{
    if (!text.isEmpty())
        text[0] = text[0].toUpper();
    return text;
}

QString origin(const QUrl &url)
{
    return url
            .adjusted(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment
                      | QUrl::RemoveUserInfo)
            .toDisplayString();
}

QString authorizationServer(const QUrl &endpoint)
{
    return QStringLiteral("the authorization server %1").arg(origin(endpoint));
}

QString seconds(int ms)
{
    const int amount = qMax(1, (ms + 999) / 1000);
    return amount == 1 ? QStringLiteral("1 second") : QStringLiteral("%1 seconds").arg(amount);
}

} // namespace mcpbroker::oauth::Wording
