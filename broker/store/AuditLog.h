#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>

#include <optional>

class QIODevice;

namespace mcpbroker::store {

// One tools/call as the audit log keeps it. Names and words only: never an argument's value,
// never a token. The caller guarantees that `reason` holds no secret value either.
struct AuditEntry
{
    QDateTime time;  // when the call came in; invalid: now
    QString client;  // the local client's name, as its grant says
    QString grantId; // the grant it used ("g…"), public
    QString server;  // the upstream server's name
    QString tool;    // the tool's name on that server (not namespaced)
    // What the policy said: "allow", "deny" (both without asking), "approved", "declined"
    // (the user answered) or "ask-timeout" (nobody answered in time).
    QString decision;
    // What became of the call: "ok", "error" (the broker or the upstream failed), "tool-error"
    // (the tool answered isError), "cancelled" (the client gave up) or "refused" (never sent).
    QString outcome;
    qint64 durationMs = -1; // from the request to the answer; -1: not measured
    QString reason;         // a short sentence, e.g. the policy rule that decided
};

// The audit log: one JSON object per line, one line per tools/call, appended to a file that
// only the user can read (0600, in a 0700 folder). Keys: time (ISO 8601, UTC, milliseconds),
// client, grant, server, tool, decision, outcome, durationMs, reason; empty ones are left out.
// JSON escapes line breaks and control characters, so an entry is always exactly one line;
// each text is cut at kMaxFieldLength characters.
//
// Rotated by size: before a write that would take the file past `maxBytes`, audit.log becomes
// audit.log.1, audit.log.1 becomes audit.log.2 and so on up to audit.log.<keptFiles>; the
// oldest is dropped. Each append opens the file anew (O_APPEND), so a file that someone moved
// or deleted is simply started again.
//
// Writing never throws and never waits for anything but the local file system: a failure is
// logged (once, until a write succeeds again) and the entry is lost.
class AuditLog : public QObject
{
    Q_OBJECT
public:
    static constexpr int kMaxFieldLength = 300;

    struct Options
    {
        qint64 maxBytes = 5 * 1024 * 1024; // per file
        int keptFiles = 3;                 // rotated files kept besides the current one
    };

    AuditLog(QString path, Options options, QObject *parent = nullptr);
    explicit AuditLog(QString path, QObject *parent = nullptr);
    ~AuditLog() override;

    // $XDG_STATE_HOME/mcp-broker/audit.log, else ~/.local/state/mcp-broker/audit.log.
    static QString defaultPath();

    QString path() const { return m_path; }

    void append(const AuditEntry &entry);

    // The entry as the log writes it: one line of JSON, without the line break.
    static QByteArray toJsonLine(const AuditEntry &entry);
    // A line of the log → its entry; nullopt for anything that is not one.
    static std::optional<AuditEntry> parseLine(QByteArrayView line);

    // The newest `count` entries, oldest first: from the file at `path`, and from its rotated
    // predecessor "<path>.1" when the file holds fewer. Lines that are not entries are skipped.
    static QList<AuditEntry> readLast(const QString &path, int count);
    // The same as the lines written, for output that passes the JSON on.
    static QList<QByteArray> readLastLines(const QString &path, int count);
    // The newest `count` lines of `log` that are entries, looking only at its first `end`
    // bytes; bytes after the last line break there are no line yet. Oldest first, without
    // their line break. Reads backwards from `end`, so a long file costs no more than a short
    // one.
    static QList<QByteArray> readLastLines(QIODevice &log, qint64 end, int count);

    // One entry as a person reads it, in local time, columns two spaces apart:
    // "2026-11-24 10:31:02  cursor  github  create_issue  allow  ok  120 ms", then
    // " — <reason>" when there is one. Control characters are shown as U+FFFD, so a name
    // cannot move the cursor or recolour a terminal.
    static QString formatLine(const AuditEntry &entry);

private:
    void writeLine(const QByteArray &line);
    void rotate();

    QString m_path;
    Options m_options;
    bool m_failing = false; // a write failed and was logged; the next failure is not
};

} // namespace mcpbroker::store
