#pragma once

#include "Result.h"
#include "gateway/CatalogSnapshot.h"
#include "gateway/Upstream.h"

#include <QObject>

#include <functional>
#include <map>
#include <memory>

namespace mcpbroker::gateway {

// The latest CatalogSnapshot of each kind of one upstream, so that a list or a tool call of an
// unchanged catalog finds the indexed snapshot (and CatalogListing its filtered merge) instead
// of building them again. A child of its upstream: it goes with it.
class CatalogSnapshots : public QObject
{
    Q_OBJECT
public:
    using Snapshot = std::shared_ptr<const CatalogSnapshot>;
    using Done = std::function<void(Result<Snapshot> snapshot)>;

    // Upstream::catalog(kind) as a snapshot: answers when and as it does (same freshness, same
    // requests to the upstream, same errors), with the previous answer's snapshot when the
    // items did not change, else a new one.
    static void fetch(Upstream *upstream, CatalogKind kind, Done done);

private:
    explicit CatalogSnapshots(Upstream *upstream);
    // Upstream::catalog hands out the same items until a load replaces them: the same pointer
    // is the same snapshot, and a reload of equal items keeps the revision.
    Snapshot update(CatalogKind kind, CatalogSnapshot::Items items);

    QString m_server;
    std::map<CatalogKind, Snapshot> m_latest;
};

} // namespace mcpbroker::gateway
