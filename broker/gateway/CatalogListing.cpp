#include "gateway/CatalogListing.h"

#include "Logging.h"
#include "gateway/Namespacing.h"
#include "mcp/JsonRpc.h"

#include <QTimer>

#include <memory>
#include <optional>

namespace mcpbroker::gateway {

using json = nlohmann::json;
using namespace mcp::jsonrpc;

namespace {

// Cursors are opaque to clients (MCP pagination); ours is the offset into the merged list,
// tagged with the list it belongs to.
QString cursorFor(CatalogKind kind, qsizetype offset)
{
    const QByteArray text
            = Upstream::listMethod(kind).toLatin1() + ':' + QByteArray::number(offset);
    return QString::fromLatin1(
            text.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

std::optional<qsizetype> offsetOf(CatalogKind kind, const json &cursor)
{
    if (cursor.is_null())
        return 0;
    if (!cursor.is_string())
        return std::nullopt;
    const auto decoded = QByteArray::fromBase64Encoding(
            QByteArray::fromStdString(cursor.get<std::string>()),
            QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    const QByteArray prefix = Upstream::listMethod(kind).toLatin1() + ':';
    if (!decoded.decoded.startsWith(prefix))
        return std::nullopt;
    bool ok = false;
    const qsizetype offset = decoded.decoded.mid(prefix.size()).toLongLong(&ok);
    if (!ok || offset < 0)
        return std::nullopt;
    return offset;
}

// The state of one list request while the upstreams answer.
struct Gathering
{
    QList<QPointer<Upstream>> upstreams;
    QList<std::optional<Result<json>>> answers;
    int remaining = 0;
    bool done = false;
    QTimer deadline;
};

} // namespace

json CatalogListing::qualifyItem(CatalogKind kind, const QString &server, json item)
{
    if (!item.is_object())
        return item;
    const char *field = kind == CatalogKind::Resources ? "uri"
            : kind == CatalogKind::ResourceTemplates   ? "uriTemplate"
                                                       : "name";
    const QString original = toQString(item.value(field, json()));
    if (original.isEmpty())
        return item;
    item[field] = toStd(kind == CatalogKind::Tools || kind == CatalogKind::Prompts
                                ? Namespacing::qualifyName(server, original)
                                : Namespacing::qualifyUri(server, original));
    return item;
}

void CatalogListing::list(const QList<Upstream *> &upstreams, bool qualify, CatalogKind kind,
                          const json &params, Done done, int deadlineMs, const ItemFilter &visible)
{
    const std::optional<qsizetype> offset = offsetOf(kind, params.value("cursor", json()));
    if (!offset) {
        Error error = Error::make(Error::Kind::InvalidInput,
                                  QStringLiteral("Invalid cursor: use the nextCursor of a previous "
                                                 "%1 answer.")
                                          .arg(Upstream::listMethod(kind)));
        error.rpcCode = ErrorCode::kInvalidParams;
        done(error);
        return;
    }

    auto gathering = std::make_shared<Gathering>();
    for (Upstream *upstream : upstreams)
        gathering->upstreams.append(upstream);
    gathering->answers.resize(upstreams.size());
    gathering->remaining = int(upstreams.size());

    auto answer = [qualify, kind, start = *offset, done, deadlineMs,
                   visible](const std::shared_ptr<Gathering> &gathering) {
        if (gathering->done)
            return;
        gathering->done = true;
        gathering->deadline.stop();
        json merged = json::array();
        for (int i = 0; i < gathering->upstreams.size(); ++i) {
            const Upstream *upstream = gathering->upstreams[i];
            const auto &reply = gathering->answers[i];
            if (!upstream || !reply || !*reply) {
                // On a one-server endpoint, that server's failure (or silence) is the answer.
                if (!qualify && upstream) {
                    done(reply ? reply->error()
                               : Error::make(
                                       Error::Kind::Timeout,
                                       QStringLiteral("Server '%1' did not answer %2 within "
                                                      "%3 seconds; try again later.")
                                               .arg(upstream->name(), Upstream::listMethod(kind))
                                               .arg(deadlineMs / 1000.0)));
                    return;
                }
                if (upstream)
                    qCInfo(lcGateway).noquote() << "Listing without server" << upstream->name();
                continue;
            }
            for (const json &item : reply->value()) {
                if (visible && !visible(upstream->name(), item))
                    continue;
                merged.push_back(qualify ? qualifyItem(kind, upstream->name(), item) : item);
            }
        }
        json result = json::object();
        const qsizetype end = std::min<qsizetype>(qsizetype(merged.size()), start + kPageSize);
        json page = json::array();
        for (qsizetype i = start; i < end; ++i)
            page.push_back(std::move(merged[size_t(i)]));
        result[Upstream::itemsKey(kind)] = std::move(page);
        if (end < qsizetype(merged.size()))
            result["nextCursor"] = toStd(cursorFor(kind, end));
        done(std::move(result));
    };

    if (upstreams.isEmpty()) {
        answer(gathering);
        return;
    }
    gathering->deadline.setSingleShot(true);
    // Weak: the gathering lives as long as an upstream may still answer, not longer.
    QObject::connect(&gathering->deadline, &QTimer::timeout,
                     [weak = std::weak_ptr<Gathering>(gathering), answer] {
                         if (auto gathering = weak.lock())
                             answer(gathering);
                     });
    gathering->deadline.start(deadlineMs);
    for (int i = 0; i < upstreams.size(); ++i) {
        upstreams[i]->catalog(kind, [gathering, i, answer](Result<json> items) {
            gathering->answers[i] = std::move(items);
            if (--gathering->remaining == 0)
                answer(gathering);
        });
    }
}

} // namespace mcpbroker::gateway
