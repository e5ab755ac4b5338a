#pragma once

#include "Result.h"
#include "gateway/CatalogFilter.h"
#include "gateway/Upstream.h"

#include <QList>
#include <QPointer>

#include <nlohmann/json.hpp>

#include <functional>

namespace mcpbroker::gateway {

// Answers one tools/list, prompts/list, resources/list or resources/templates/list for the
// upstreams of an endpoint: gathers every upstream's whole catalog at once (cached, see
// Upstream::catalog, as CatalogSnapshots), names the items for the endpoint (Namespacing), and
// cuts the merged list into pages with an opaque cursor. A slow or dead upstream is left out
// after `deadlineMs` rather than holding the answer back; on a one-server endpoint its failure
// is the answer.
//
// A page costs its own items, not the whole merged list: only the page's items are copied and
// renamed, and the visible items of a filter with a key are kept for the same snapshots and key.
class CatalogListing
{
public:
    static constexpr int kPageSize = 200;
    static constexpr int kDeadlineMs = 10'000;

    using Done = std::function<void(Result<nlohmann::json> result)>;
    // Whether the client may see an item of `server` (policy); empty: every item.
    using ItemFilter = CatalogFilter;

    // `qualify`: aggregated endpoint (names get their server prefix).
    static void list(const QList<Upstream *> &upstreams, bool qualify, CatalogKind kind,
                     const nlohmann::json &params, Done done, int deadlineMs = kDeadlineMs,
                     const ItemFilter &visible = {});

    // The item renamed for the aggregated endpoint.
    static nlohmann::json qualifyItem(CatalogKind kind, const QString &server, nlohmann::json item);
};

} // namespace mcpbroker::gateway
