#include "gateway/CatalogSnapshots.h"

#include <QPointer>

namespace mcpbroker::gateway {

using json = nlohmann::json;

CatalogSnapshot::Items CatalogSnapshots::shared(json items)
{
    return std::make_shared<const json>(std::move(items));
}

CatalogSnapshot::Items CatalogSnapshots::shared(CatalogSnapshot::Items items)
{
    return items;
}

CatalogSnapshots::CatalogSnapshots(Upstream *upstream)
    : QObject(upstream), m_server(upstream->name())
{ }

void CatalogSnapshots::fetch(Upstream *upstream, CatalogKind kind, Done done)
{
    auto *snapshots
            = upstream->findChild<CatalogSnapshots *>(QString(), Qt::FindDirectChildrenOnly);
    if (!snapshots)
        snapshots = new CatalogSnapshots(upstream);
    QPointer<CatalogSnapshots> guard(snapshots);
    const QString server = upstream->name();
    upstream->catalog(kind, [guard, server, kind, done = std::move(done)](auto items) {
        if (!items)
            return done(items.error());
        if (!guard) // the upstream went while it answered: nothing to share the snapshot with
            return done(std::make_shared<const CatalogSnapshot>(server, kind,
                                                                shared(std::move(items).value())));
        done(guard->update(kind, std::move(items).value()));
    });
}

CatalogSnapshots::Snapshot CatalogSnapshots::update(CatalogKind kind, json items)
{
    Snapshot &latest = m_latest[kind];
    // The copy goes when it is the same as the snapshot's: no new snapshot, no new index.
    if (!latest || !CatalogSnapshot::sameItems(latest->items(), items))
        latest = std::make_shared<const CatalogSnapshot>(m_server, kind, shared(std::move(items)));
    return latest;
}

CatalogSnapshots::Snapshot CatalogSnapshots::update(CatalogKind kind, CatalogSnapshot::Items items)
{
    Snapshot &latest = m_latest[kind];
    // A new load of the same items keeps the revision, so lists kept for it stay valid.
    if (!latest || !latest->holds(items))
        latest = std::make_shared<const CatalogSnapshot>(m_server, kind, std::move(items),
                                                         latest.get());
    return latest;
}

} // namespace mcpbroker::gateway
