#pragma once

#include "gateway/Upstream.h"

#include <QString>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <unordered_map>

namespace mcpbroker::gateway {

// One upstream's catalog of one kind as it was listed, never changed after: the items, a
// revision that stands for exactly this content, and for tools each tool's annotations by
// name. Shared by every list and tool call that reads the catalog, so copying and indexing
// happen once per catalog change rather than once per request.
class CatalogSnapshot
{
public:
    using Items = std::shared_ptr<const nlohmann::json>;

    // `items`: the whole list (Upstream::catalog); anything but an array counts as empty. With
    // the same items as `previous` (sameItems), the snapshot takes its revision.
    CatalogSnapshot(QString server, CatalogKind kind, Items items,
                    const CatalogSnapshot *previous = nullptr);
    CatalogSnapshot(const CatalogSnapshot &) = delete;
    CatalogSnapshot &operator=(const CatalogSnapshot &) = delete;

    const QString &server() const { return m_server; }
    CatalogKind kind() const { return m_kind; }
    const nlohmann::json &items() const { return *m_items; } // an array
    bool holds(const Items &items) const { return m_items == items; }
    // Names the content: snapshots with equal revisions have the same server, kind and items,
    // and snapshots of different content never share one.
    quint64 revision() const { return m_revision; }

    // The "annotations" member of the tool named `name` (of the last one, should tools/list
    // name two alike), null when it has none or there is no such tool. Tools only.
    const nlohmann::json &annotationsOf(const QString &name) const;

    // The "annotations" member of one tool of a tools/list; noAnnotations() when it has none
    // (or is not an object). A reference into `tool`, or to the static null value.
    static const nlohmann::json &annotationsIn(const nlohmann::json &tool);
    // The null value that stands for "no annotations".
    static const nlohmann::json &noAnnotations();

    // Whether two catalogs read the same on the wire: the same JSON types and values all the
    // way down (1 and 1.0 differ; nlohmann's == would call them equal).
    static bool sameItems(const nlohmann::json &a, const nlohmann::json &b);

private:
    QString m_server;
    CatalogKind m_kind;
    Items m_items;
    quint64 m_revision;
    std::unordered_map<std::string, const nlohmann::json *> m_annotations; // into m_items
};

} // namespace mcpbroker::gateway
