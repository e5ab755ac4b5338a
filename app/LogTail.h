#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>

class QFile;
class QFileSystemWatcher;

namespace mcpbroker::app {

// Reads the audit log as `tail -n N -F` does, for `mcp-broker log`: the newest entries, then
// (follow()) every entry appended afterwards, across the log's rotation (the file renamed to
// "<path>.1" and a new one begun), truncation, deletion and re-creation. Driven by a
// QFileSystemWatcher on the file and its folder: nothing polls.
//
// Lines are the audit log's own (store::AuditLog::parseLine accepts them), without their line
// break; anything else in the file is skipped. A line is reported once it is complete.
class LogTail : public QObject
{
    Q_OBJECT
public:
    explicit LogTail(QString path, QObject *parent = nullptr);
    ~LogTail() override;

    QString path() const { return m_path; }
    bool exists() const; // whether the log file exists now

    // The newest `count` entry lines, oldest first: from the file and, when it holds fewer,
    // from "<path>.1". Following continues exactly where these end, so no line is shown twice
    // or missed in between. Empty when there is no log yet.
    QList<QByteArray> readLast(int count);

    // Starts reporting appended lines through `appended`. Without readLast() before, from the
    // current end of the file. Creates the log's folder (mode 0700) when it is missing, so that
    // a log not written yet can be waited for; false when the folder cannot be watched.
    bool follow();

Q_SIGNALS:
    void appended(const QList<QByteArray> &lines);

private:
    bool openCurrent();
    void closeCurrent();
    void catchUp();
    void readAppended();
    void watchFile();
    bool sameFileAsOpen(const QString &path) const;

    QString m_path;
    QFile *m_file = nullptr;     // the log as it was opened; may since have been rotated away
    qint64 m_offset = 0;         // how far m_file has been read
    QByteArray m_unfinished;     // bytes read after the last line break: a line not done yet
    bool m_skippingLine = false; // a line too long to be an entry: dropped up to its end
    bool m_positioned = false;   // readLast() has chosen where following starts
    QFileSystemWatcher *m_watcher = nullptr;
};

} // namespace mcpbroker::app
