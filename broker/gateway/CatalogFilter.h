#pragma once

#include <QString>

#include <nlohmann/json.hpp>

#include <functional>
#include <type_traits>

namespace mcpbroker::gateway {

// Says whether a client may see an item (a tool, prompt, …) of a server.
template<typename F>
concept CatalogItemTest = std::is_invocable_r_v<bool, F &, const QString &, const nlohmann::json &>;

// Which items of a catalog a client may see (CatalogListing): a test per item and, optionally,
// a key naming everything the test decides by (the policy and the client), so that a filtered
// list can be kept while neither the key nor the catalogs change. Without a key, every list
// asks the test about the items again.
class CatalogFilter
{
public:
    using Test = std::function<bool(const QString &server, const nlohmann::json &item)>;
    // Asked when a list is answered; "" means "do not keep".
    using Key = std::function<QString()>;

    CatalogFilter() = default;
    // A test alone (a lambda, say): a filter without a key.
    template<CatalogItemTest F>
    CatalogFilter(F test) : m_test(std::move(test))
    { }
    CatalogFilter(Test test, Key key) : m_test(std::move(test)), m_key(std::move(key)) { }

    explicit operator bool() const { return bool(m_test); }
    bool operator()(const QString &server, const nlohmann::json &item) const
    {
        return m_test(server, item);
    }
    QString key() const { return m_key ? m_key() : QString(); }

private:
    Test m_test;
    Key m_key;
};

} // namespace mcpbroker::gateway
