// Client-config merging (app/JsonConfigMerger, app/TomlConfigMerger, app/ClientConfigs): the
// user's existing config file of an MCP client, into which `mcp-broker connect` merges its
// entries and from which `disconnect` removes them. The input is read as the file of every
// client MCP Broker knows (JSON, JSON with comments, TOML), and `connect` / `disconnect` are
// replayed in memory the way ClientConfigFile does them. Properties, besides no crash, UB, leak
// or exception escaping:
// - a file that cannot be read is refused with an InvalidInput sentence naming it, never
//   silently taken as empty;
// - the merged document parses again, holds our entries (pointing at the broker, with the
//   grant where the client takes headers), and every other entry and top-level key as it was;
// - merging twice changes nothing (put() says Unchanged, the text stays the same);
// - removing our entries after adding them gives a file without them that still holds the rest.

#include "FuzzSupport.h"

#include "ClientConfigs.h"
#include "ConfigMerger.h"

#include <nlohmann/json.hpp>

#include <memory>

using namespace mcpbroker;
using app::ClientProfile;
using app::ConfigMerger;
using nlohmann::ordered_json;
namespace ClientConfigs = app::ClientConfigs;

namespace {

const QString kPath = QStringLiteral("/home/user/.config/client/mcp.json");
// Shaped like a static grant token (GrantToken): "mcpb_<grant id>_<43 base64url>".
const QByteArray kGrant = "mcpb_g0123456789ab_" + QByteArray(43, 'A');

struct Merge
{
    QString name;
    ordered_json entry;
};

QList<Merge> brokerEntries(const ClientProfile &client)
{
    app::BrokerEndpoint endpoint;
    endpoint.port = 7823;
    endpoint.executable = QStringLiteral("/usr/bin/mcp-broker");
    const QByteArray grant = client.headersKey.isEmpty() ? QByteArray() : kGrant;
    return {{ClientConfigs::entryName(QString()),
             ClientConfigs::entry(client, endpoint, QString(), grant)},
            {ClientConfigs::entryName(QStringLiteral("docs")),
             ClientConfigs::entry(client, endpoint, QStringLiteral("docs"))}};
}

bool isOurs(const QString &name, const QList<Merge> &merges)
{
    for (const Merge &merge : merges) {
        if (merge.name == name)
            return true;
    }
    return false;
}

std::unique_ptr<ConfigMerger> loaded(const ClientProfile &client, const QByteArray &contents)
{
    std::unique_ptr<ConfigMerger> merger = ConfigMerger::create(client);
    const Result<void> result = merger->load(contents, kPath);
    FUZZ_CHECK(result.ok());
    return merger;
}

// As ClientConfigFile::put: true when the document changed.
bool put(ConfigMerger &merger, const Merge &merge)
{
    const auto current = merger.entry(merge.name);
    if (current && ClientConfigs::sameEntry(*current, merge.entry))
        return false;
    merger.setEntry(merge.name, merge.entry);
    return true;
}

// Every entry of `before` that is not ours is in `after`, saying the same.
void checkOthersKept(const ConfigMerger &before, const ConfigMerger &after,
                     const QList<Merge> &merges)
{
    for (const QString &name : before.entryNames()) {
        if (isOurs(name, merges))
            continue;
        const auto kept = after.entry(name);
        FUZZ_CHECK(kept && ClientConfigs::sameEntry(*before.entry(name), *kept));
    }
}

// The top-level keys other than the servers key, for the JSON clients.
ordered_json topLevelWithoutServers(const ClientProfile &client, const QByteArray &contents)
{
    if (contents.trimmed().isEmpty())
        return ordered_json::object();
    ordered_json document = ordered_json::parse(contents.toStdString(), nullptr, false, true);
    FUZZ_CHECK(document.is_object());
    document.erase(client.serversKey.toStdString());
    return document;
}

void checkClient(const ClientProfile &client, const QByteArray &original)
{
    std::unique_ptr<ConfigMerger> before = ConfigMerger::create(client);
    const Result<void> read = before->load(original, kPath);
    if (!read) {
        FUZZ_CHECK(read.error().kind == Error::Kind::InvalidInput);
        FUZZ_CHECK(read.error().message.contains(kPath));
        return;
    }
    const QList<Merge> merges = brokerEntries(client);

    // connect
    std::unique_ptr<ConfigMerger> merging = loaded(client, original);
    for (const Merge &merge : merges)
        put(*merging, merge);
    const QByteArray merged = merging->contents();

    std::unique_ptr<ConfigMerger> after = loaded(client, merged);
    for (const Merge &merge : merges) {
        const auto entry = after->entry(merge.name);
        FUZZ_CHECK(entry && ClientConfigs::sameEntry(*entry, merge.entry));
        FUZZ_CHECK(ClientConfigs::pointsAtBroker(*entry));
    }
    if (!client.headersKey.isEmpty()) {
        const auto grantId = ClientConfigs::grantIdIn(client, *after->entry(merges[0].name));
        FUZZ_CHECK(grantId == QStringLiteral("g0123456789ab"));
        FUZZ_CHECK(!ClientConfigs::grantIdIn(
                client,
                ClientConfigs::withoutAuthorization(client, *after->entry(merges[0].name))));
    }
    checkOthersKept(*before, *after, merges);
    if (client.format == ClientProfile::Format::Json)
        FUZZ_CHECK(topLevelWithoutServers(client, merged)
                   == topLevelWithoutServers(client, original));

    // connect again: nothing to change
    for (const Merge &merge : merges)
        FUZZ_CHECK(!put(*after, merge));
    FUZZ_CHECK(after->contents() == merged);

    // disconnect
    for (const Merge &merge : merges)
        FUZZ_CHECK(after->removeEntry(merge.name));
    const QByteArray removed = after->contents();
    std::unique_ptr<ConfigMerger> without = loaded(client, removed);
    for (const Merge &merge : merges)
        FUZZ_CHECK(!without->entry(merge.name));
    checkOthersKept(*before, *without, merges);
    if (client.format == ClientProfile::Format::Json)
        FUZZ_CHECK(topLevelWithoutServers(client, removed)
                   == topLevelWithoutServers(client, original));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray original(reinterpret_cast<const char *>(data), qsizetype(size));
    for (const ClientProfile &client : ClientConfigs::all())
        checkClient(client, original);
    return 0;
}
