#include "gateway/Namespacing.h"

#include "store/ConfigStore.h"

namespace mcpbroker::gateway::Namespacing {

namespace {

const QLatin1String kNameSeparator("__");
const QLatin1Char kUriSeparator('+');

std::optional<Qualified> splitAt(const QString &text, qsizetype at, qsizetype separatorLength)
{
    if (at <= 0)
        return std::nullopt;
    Qualified parts{text.left(at), text.mid(at + separatorLength)};
    if (parts.name.isEmpty() || !store::ConfigStore::validateServerName(parts.server))
        return std::nullopt;
    return parts;
}

} // namespace

QString qualifyName(const QString &server, const QString &name)
{
    return server + kNameSeparator + name;
}

QString qualifyUri(const QString &server, const QString &uri)
{
    return server + kUriSeparator + uri;
}

std::optional<Qualified> splitName(const QString &qualified)
{
    return splitAt(qualified, qualified.indexOf(kNameSeparator), kNameSeparator.size());
}

std::optional<Qualified> splitUri(const QString &qualified)
{
    return splitAt(qualified, qualified.indexOf(kUriSeparator), 1);
}

} // namespace mcpbroker::gateway::Namespacing
