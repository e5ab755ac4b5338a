#include "gateway/CatalogListing.h"

#include "Logging.h"
#include "gateway/CatalogSnapshots.h"
#include "gateway/Namespacing.h"
#include "mcp/JsonRpc.h"

#include <QTimer>

#include <algorithm>
#include <list>
#include <memory>
#include <optional>
#include <vector>

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

using Snapshot = CatalogSnapshots::Snapshot;

// The state of one list request while the upstreams answer.
struct Gathering
{
    QList<QPointer<Upstream>> upstreams;
    QList<std::optional<Result<Snapshot>>> answers;
    int remaining = 0;
    bool done = false;
    QTimer deadline;
};

// Where an item of a merged list is: which of the merged catalogs, which item of it.
struct ItemRef
{
    quint32 part = 0;
    quint32 index = 0;
};
using ItemRefs = std::vector<ItemRef>;

// The visible items of merged catalogs under filters with a key, the last few kept. An entry
// is found by the filter's key (the policy and the client) and the snapshots' revisions, which
// change with any catalog, with the set or order of the upstreams and with an upstream left
// out: a list that could be stale is never found again, and ages out.
class VisibleItems
{
public:
    std::shared_ptr<const ItemRefs> of(const std::vector<Snapshot> &parts, const QString &key,
                                       const CatalogFilter &visible)
    {
        std::vector<quint64> revisions;
        revisions.reserve(parts.size());
        for (const Snapshot &part : parts)
            revisions.push_back(part->revision());
        for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
            if (it->key == key && it->revisions == revisions) {
                m_entries.splice(m_entries.begin(), m_entries, it);
                return it->items;
            }
        }
        auto items = std::make_shared<ItemRefs>();
        for (quint32 part = 0; part < parts.size(); ++part) {
            quint32 index = 0;
            for (const json &item : parts[part]->items()) {
                if (visible(parts[part]->server(), item))
                    items->push_back({part, index});
                ++index;
            }
        }
        m_entries.push_front({key, std::move(revisions), items});
        if (m_entries.size() > kMaxEntries)
            m_entries.pop_back();
        return items;
    }

private:
    static constexpr size_t kMaxEntries = 16;
    struct Entry
    {
        QString key;
        std::vector<quint64> revisions;
        std::shared_ptr<const ItemRefs> items;
    };
    std::list<Entry> m_entries; // the most recently used first
};

VisibleItems &visibleItems()
{
    static VisibleItems cache;
    return cache;
}

// One page of the merged items of `parts` that `visible` lets through: from the `start`th,
// kPageSize at most, copied and renamed (`qualify`) one by one.
struct PageCutter
{
    CatalogKind kind;
    bool qualify;
    qsizetype start;
    json items = json::array();
    bool more = false; // a visible item follows the page

    bool full() const { return qsizetype(items.size()) >= CatalogListing::kPageSize; }
    void add(const CatalogSnapshot &part, const json &item)
    {
        items.push_back(qualify ? CatalogListing::qualifyItem(kind, part.server(), item) : item);
    }

    void cut(const std::vector<Snapshot> &parts, const CatalogFilter &visible)
    {
        if (!visible)
            return cutAll(parts);
        if (const QString key = visible.key(); !key.isEmpty())
            return cutKept(parts, *visibleItems().of(parts, key, visible));
        qsizetype position = 0;
        for (const Snapshot &part : parts) {
            for (const json &item : part->items()) {
                if (!visible(part->server(), item) || position++ < start)
                    continue;
                if (full()) {
                    more = true;
                    return;
                }
                add(*part, item);
            }
        }
    }

    // Without a filter whole catalogs before the page are skipped by their size.
    void cutAll(const std::vector<Snapshot> &parts)
    {
        qsizetype skip = start;
        for (const Snapshot &part : parts) {
            const json &partItems = part->items();
            const qsizetype size = qsizetype(partItems.size());
            for (qsizetype i = std::min(skip, size); i < size; ++i) {
                if (full()) {
                    more = true;
                    return;
                }
                add(*part, partItems[size_t(i)]);
            }
            skip = std::max<qsizetype>(0, skip - size);
        }
    }

    void cutKept(const std::vector<Snapshot> &parts, const ItemRefs &refs)
    {
        const qsizetype count = qsizetype(refs.size());
        for (qsizetype i = std::min(start, count); i < count; ++i) {
            if (full()) {
                more = true;
                return;
            }
            const ItemRef &ref = refs[size_t(i)];
            add(*parts[ref.part], parts[ref.part]->items()[ref.index]);
        }
    }
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
        std::vector<Snapshot> parts;
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
            parts.push_back(reply->value());
        }
        PageCutter page{kind, qualify, start};
        page.cut(parts, visible);
        json result = json::object();
        result[Upstream::itemsKey(kind)] = std::move(page.items);
        if (page.more)
            result["nextCursor"] = toStd(cursorFor(kind, start + CatalogListing::kPageSize));
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
        CatalogSnapshots::fetch(upstreams[i], kind, [gathering, i, answer](Result<Snapshot> items) {
            gathering->answers[i] = std::move(items);
            if (--gathering->remaining == 0)
                answer(gathering);
        });
    }
}

} // namespace mcpbroker::gateway
