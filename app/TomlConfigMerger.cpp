#include "TomlConfigMerger.h"

#include <QDir>

#include <toml++/toml.h>

#include <sstream>

namespace mcpbroker::app {

namespace {

using nlohmann::ordered_json;

ordered_json toJson(const toml::node &node)
{
    switch (node.type()) {
    case toml::node_type::table: {
        ordered_json object = ordered_json::object();
        for (auto &&[key, value] : *node.as_table())
            object[std::string(key.str())] = toJson(value);
        return object;
    }
    case toml::node_type::array: {
        ordered_json array = ordered_json::array();
        for (const toml::node &value : *node.as_array())
            array.push_back(toJson(value));
        return array;
    }
    case toml::node_type::string:
        return node.as_string()->get();
    case toml::node_type::integer:
        return node.as_integer()->get();
    case toml::node_type::floating_point:
        return node.as_floating_point()->get();
    case toml::node_type::boolean:
        return node.as_boolean()->get();
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: {
        // Only compared, never written back: text is enough.
        std::ostringstream text;
        node.visit([&text](const auto &value) { text << value; });
        return text.str();
    }
    case toml::node_type::none:
        break;
    }
    return nullptr;
}

toml::array toArray(const ordered_json &values);

// Tables inside an entry are written inline (`http_headers = { Authorization = "…" }`), as
// Codex's documentation writes them.
toml::table toTable(const ordered_json &object, bool isInline)
{
    toml::table table;
    table.is_inline(isInline);
    for (auto it = object.begin(); it != object.end(); ++it) {
        const ordered_json &value = it.value();
        const std::string &key = it.key();
        if (value.is_object())
            table.insert_or_assign(key, toTable(value, true));
        else if (value.is_array())
            table.insert_or_assign(key, toArray(value));
        else if (value.is_string())
            table.insert_or_assign(key, value.get<std::string>());
        else if (value.is_boolean())
            table.insert_or_assign(key, value.get<bool>());
        else if (value.is_number_integer())
            table.insert_or_assign(key, value.get<int64_t>());
        else if (value.is_number_float())
            table.insert_or_assign(key, value.get<double>());
        // null has no TOML form: the key is left out.
    }
    return table;
}

toml::array toArray(const ordered_json &values)
{
    toml::array array;
    for (const ordered_json &value : values) {
        if (value.is_object())
            array.push_back(toTable(value, true));
        else if (value.is_array())
            array.push_back(toArray(value));
        else if (value.is_string())
            array.push_back(value.get<std::string>());
        else if (value.is_boolean())
            array.push_back(value.get<bool>());
        else if (value.is_number_integer())
            array.push_back(value.get<int64_t>());
        else if (value.is_number_float())
            array.push_back(value.get<double>());
    }
    return array;
}

// The document as TOML text: basic ("…") strings, as Codex writes them; no indentation of
// nested tables.
std::string formatted(const toml::table &document)
{
    const auto flags = toml::toml_formatter::default_flags & ~toml::format_flags::indentation
            & ~toml::format_flags::allow_literal_strings;
    std::ostringstream text;
    text << toml::toml_formatter(document, flags);
    return text.str();
}

// Whether `document` reads back the same once written. toml++ 3.3 writes a key made of
// letters and a quote, tab or line break ("don't") without its quotes: the file written
// would not parse again (found by fuzz_client_config).
bool survivesRewrite(const toml::table &document)
{
    try {
        const toml::table again = toml::parse(formatted(document));
        // Compared as JSON text: NaN equals itself there, and dates compare as text.
        const auto replace = nlohmann::ordered_json::error_handler_t::replace;
        return toJson(again).dump(-1, ' ', false, replace)
                == toJson(document).dump(-1, ' ', false, replace);
    } catch (const toml::parse_error &) {
        return false;
    }
}

} // namespace

struct TomlConfigMerger::Private
{
    std::string serversKey;
    toml::table document;
    bool hadContents = false;

    toml::table *servers() { return document[serversKey].as_table(); }
    const toml::table *servers() const { return document[serversKey].as_table(); }
};

TomlConfigMerger::TomlConfigMerger(const QString &serversKey) : d(std::make_unique<Private>())
{
    d->serversKey = serversKey.toStdString();
}

TomlConfigMerger::~TomlConfigMerger() = default;

Result<void> TomlConfigMerger::load(const QByteArray &contents, const QString &path)
{
    const QString shown = QDir::toNativeSeparators(path);
    d->document = toml::table();
    d->hadContents = !contents.trimmed().isEmpty();
    if (!d->hadContents)
        return {};
    const std::string text = contents.toStdString();
    const std::string source = path.toStdString();
    try {
        d->document = toml::parse(std::string_view(text), std::string_view(source));
    } catch (const toml::parse_error &error) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("%1 is not valid TOML (line %2, column %3: %4).")
                                   .arg(shown)
                                   .arg(error.source().begin.line)
                                   .arg(error.source().begin.column)
                                   .arg(QString::fromUtf8(error.description().data(),
                                                          qsizetype(error.description().size()))));
    }
    const toml::node *servers = d->document.get(d->serversKey);
    if (servers && !servers->is_table()) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("In %1, \"%2\" is not a table of servers.")
                                   .arg(shown, QString::fromStdString(d->serversKey)));
    }
    if (!survivesRewrite(d->document)) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("%1 cannot be written back as valid TOML: a quoted key "
                                          "of it with a quote, tab or line break would lose its "
                                          "quotes.")
                                   .arg(shown));
    }
    return {};
}

QStringList TomlConfigMerger::entryNames() const
{
    QStringList names;
    if (const toml::table *servers = d->servers()) {
        for (auto &&[key, value] : *servers)
            names.append(QString::fromUtf8(key.str().data(), qsizetype(key.str().size())));
    }
    return names;
}

std::optional<ordered_json> TomlConfigMerger::entry(const QString &name) const
{
    const toml::table *servers = d->servers();
    const toml::node *entry = servers ? servers->get(name.toStdString()) : nullptr;
    if (!entry)
        return std::nullopt;
    return toJson(*entry);
}

void TomlConfigMerger::setEntry(const QString &name, const ordered_json &entry)
{
    if (!d->servers())
        d->document.insert_or_assign(d->serversKey, toml::table());
    d->servers()->insert_or_assign(name.toStdString(), toTable(entry, false));
}

bool TomlConfigMerger::removeEntry(const QString &name)
{
    toml::table *servers = d->servers();
    return servers && servers->erase(name.toStdString()) > 0;
}

QByteArray TomlConfigMerger::contents() const
{
    QByteArray bytes = QByteArray::fromStdString(formatted(d->document));
    if (!bytes.isEmpty() && !bytes.endsWith('\n'))
        bytes += '\n';
    return bytes;
}

QString TomlConfigMerger::rewriteNote() const
{
    return d->hadContents ? QStringLiteral("TOML is written anew: comments and the order of keys "
                                           "were not kept; the backup has them.")
                          : QString();
}

} // namespace mcpbroker::app
