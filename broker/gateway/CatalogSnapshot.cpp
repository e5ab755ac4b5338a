#include "gateway/CatalogSnapshot.h"

#include <atomic>
#include <bit>

namespace mcpbroker::gateway {

using json = nlohmann::json;

namespace {

quint64 nextRevision()
{
    static std::atomic<quint64> last{0};
    return ++last;
}

} // namespace

const json &CatalogSnapshot::noAnnotations()
{
    static const json none;
    return none;
}

const json &CatalogSnapshot::annotationsIn(const json &tool)
{
    if (!tool.is_object())
        return noAnnotations();
    const auto annotations = tool.find("annotations");
    return annotations == tool.end() ? noAnnotations() : *annotations;
}

CatalogSnapshot::CatalogSnapshot(QString server, CatalogKind kind, Items items,
                                 const CatalogSnapshot *previous)
    : m_server(std::move(server)), m_kind(kind),
      m_items(items && items->is_array() ? std::move(items)
                                         : std::make_shared<const json>(json::array())),
      m_revision(previous && previous->m_server == m_server && previous->m_kind == m_kind
                                 && sameItems(previous->items(), *m_items)
                         ? previous->m_revision
                         : nextRevision())
{
    if (m_kind != CatalogKind::Tools)
        return;
    for (const json &tool : *m_items) {
        if (!tool.is_object())
            continue;
        const auto name = tool.find("name");
        if (name == tool.end() || !name->is_string())
            continue;
        // A later tool of the same name wins, as in a scan of the whole list.
        m_annotations[name->get<std::string>()] = &annotationsIn(tool);
    }
}

const json &CatalogSnapshot::annotationsOf(const QString &name) const
{
    const auto it = m_annotations.find(name.toStdString());
    return it == m_annotations.end() ? noAnnotations() : *it->second;
}

bool CatalogSnapshot::sameItems(const json &a, const json &b)
{
    if (a.type() != b.type())
        return false;
    switch (a.type()) {
    case json::value_t::array: {
        if (a.size() != b.size())
            return false;
        for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
            if (!sameItems(*x, *y))
                return false;
        }
        return true;
    }
    case json::value_t::object: {
        if (a.size() != b.size())
            return false;
        // Both iterate in key order.
        for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
            if (x.key() != y.key() || !sameItems(x.value(), y.value()))
                return false;
        }
        return true;
    }
    case json::value_t::number_float:
        // Bitwise: 0.0 and -0.0 are written differently.
        return std::bit_cast<quint64>(a.get<double>()) == std::bit_cast<quint64>(b.get<double>());
    default:
        return a == b;
    }
}

} // namespace mcpbroker::gateway
