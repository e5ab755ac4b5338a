#include "JsonConfigMerger.h"

#include <QDir>
#include <QRegularExpression>

#include <optional>

namespace mcpbroker::app {

namespace {

using nlohmann::ordered_json;

Error invalidFile(const QString &message)
{
    return Error::make(Error::Kind::InvalidInput, message);
}

// nlohmann's message without its "last read: '…'", which quotes the file (maybe a secret).
QString describe(const nlohmann::json::parse_error &error)
{
    const QString what = QString::fromUtf8(error.what());
    static const QRegularExpression position(QStringLiteral("line (\\d+), column (\\d+): (.*)$"));
    const QRegularExpressionMatch match = position.match(what);
    if (!match.hasMatch())
        return QStringLiteral("at byte %1").arg(error.byte);
    QString problem = match.captured(3);
    const qsizetype lastRead = problem.indexOf(QLatin1String("; last read:"));
    if (lastRead >= 0)
        problem.truncate(lastRead);
    return QStringLiteral("line %1, column %2: %3")
            .arg(match.captured(1), match.captured(2), problem);
}

// Parses `text` into `document`; on failure, what is wrong (without quoting the file).
std::optional<QString> parseInto(ordered_json &document, const std::string &text,
                                 bool ignoreComments)
{
    try {
        document = ordered_json::parse(text, nullptr, true, ignoreComments);
        return std::nullopt;
    } catch (const nlohmann::json::parse_error &error) {
        return describe(error);
    } catch (const nlohmann::json::out_of_range &) {
        // nlohmann's only other parse failure: a number beyond a double (1e999), quoted in its
        // message.
        return QStringLiteral("a number is too large");
    }
}

} // namespace

JsonConfigMerger::JsonConfigMerger(const QString &serversKey, bool allowsComments)
    : m_serversKey(serversKey.toStdString()), m_allowsComments(allowsComments)
{ }

Result<void> JsonConfigMerger::load(const QByteArray &contents, const QString &path)
{
    const QString shown = QDir::toNativeSeparators(path);
    m_document = ordered_json::object();
    m_hadComments = false;
    m_endsWithNewline = contents.isEmpty() || contents.endsWith('\n');
    if (contents.trimmed().isEmpty())
        return {};

    const std::string text = contents.toStdString();
    if (const auto strictProblem = parseInto(m_document, text, false)) {
        if (!m_allowsComments)
            return invalidFile(
                    QStringLiteral("%1 is not valid JSON (%2).").arg(shown, *strictProblem));
        // VS Code's files are JSON with comments: read them, and say that they are dropped.
        if (const auto problem = parseInto(m_document, text, true)) {
            return invalidFile(QStringLiteral("%1 is not valid JSON (%2); trailing commas are not "
                                              "understood either.")
                                       .arg(shown, *problem));
        }
        m_hadComments = true;
    }
    if (!m_document.is_object()) {
        return invalidFile(QStringLiteral("%1 does not hold a JSON object at the top, as an MCP "
                                          "client config does.")
                                   .arg(shown));
    }
    const auto found = m_document.find(m_serversKey);
    if (found != m_document.end() && !found->is_object()) {
        return invalidFile(QStringLiteral("In %1, \"%2\" is not an object of servers.")
                                   .arg(shown, QString::fromStdString(m_serversKey)));
    }
    return {};
}

const ordered_json *JsonConfigMerger::servers() const
{
    const auto found = m_document.find(m_serversKey);
    return found == m_document.end() ? nullptr : &*found;
}

QStringList JsonConfigMerger::entryNames() const
{
    QStringList names;
    if (const ordered_json *all = servers()) {
        for (auto it = all->begin(); it != all->end(); ++it)
            names.append(QString::fromStdString(it.key()));
    }
    return names;
}

std::optional<ordered_json> JsonConfigMerger::entry(const QString &name) const
{
    const ordered_json *all = servers();
    if (!all)
        return std::nullopt;
    const auto found = all->find(name.toStdString());
    if (found == all->end())
        return std::nullopt;
    return *found;
}

void JsonConfigMerger::setEntry(const QString &name, const ordered_json &entry)
{
    // operator[] keeps an existing key where it is and appends a new one.
    m_document[m_serversKey][name.toStdString()] = entry;
}

bool JsonConfigMerger::removeEntry(const QString &name)
{
    const auto found = m_document.find(m_serversKey);
    return found != m_document.end() && found->erase(name.toStdString()) > 0;
}

QByteArray JsonConfigMerger::contents() const
{
    QByteArray text = QByteArray::fromStdString(
            m_document.dump(2, ' ', false, ordered_json::error_handler_t::replace));
    if (m_endsWithNewline)
        text += '\n';
    return text;
}

QString JsonConfigMerger::rewriteNote() const
{
    return m_hadComments ? QStringLiteral("Its comments could not be kept; the backup has them.")
                         : QString();
}

} // namespace mcpbroker::app
