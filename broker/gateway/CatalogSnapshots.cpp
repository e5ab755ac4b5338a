#include "gateway/CatalogSnapshots.h"

#include <QPointer>

namespace mcpbroker::gateway {

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
    upstream->catalog(
            kind,
            [guard, server, kind, done = std::move(done)](Result<Upstream::CatalogItems> items) {
                if (!items)
                    return done(items.error());
                if (!guard) // the upstream went while it answered: nothing to share the snapshot with
                    return done(std::make_shared<const CatalogSnapshot>(server, kind,
                                                                        std::move(items).value()));
                done(guard->update(kind, std::move(items).value()));
            });
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
