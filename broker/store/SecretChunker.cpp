#include "store/SecretChunker.h"

namespace mcpbroker::store::SecretChunker {

namespace {

constexpr char kMagic[] = "mcpb-chunks:1:";
// "mcpb-chunks:1:" + up to 2 digits + ':' + up to 6 digits + '\n'
constexpr qsizetype kMaxHeaderSize = sizeof(kMagic) - 1 + 2 + 1 + 6 + 1;

struct Header
{
    int count = 0;
    qsizetype length = 0;
    qsizetype size = 0; // bytes of the header itself
};

QByteArray makeHeader(int count, qsizetype length)
{
    return QByteArray(kMagic) + QByteArray::number(count) + ':' + QByteArray::number(length) + '\n';
}

Error corrupt(const QString &what)
{
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("The secret in the keychain is damaged (%1): sign in again "
                                      "or store the secret again.")
                               .arg(what));
}

bool parseNumber(const QByteArray &digits, qsizetype max, qsizetype *out)
{
    if (digits.isEmpty() || digits.size() > 6 || (digits.size() > 1 && digits.startsWith('0')))
        return false;
    for (char c : digits) {
        if (c < '0' || c > '9')
            return false;
    }
    bool ok = false;
    const qlonglong value = digits.toLongLong(&ok);
    if (!ok || value > max)
        return false;
    *out = static_cast<qsizetype>(value);
    return true;
}

Result<Header> parseHeader(const QByteArray &firstChunk)
{
    if (firstChunk.size() > kChunkSize)
        return corrupt(QStringLiteral("its first part is too large"));
    if (!firstChunk.startsWith(kMagic))
        return corrupt(QStringLiteral("it was not written by MCP Broker"));
    const qsizetype end = firstChunk.indexOf('\n');
    if (end < 0 || end + 1 > kMaxHeaderSize)
        return corrupt(QStringLiteral("its header is incomplete"));
    const QByteArray fields = firstChunk.mid(sizeof(kMagic) - 1, end - (sizeof(kMagic) - 1));
    const qsizetype colon = fields.indexOf(':');
    qsizetype count = 0;
    qsizetype length = 0;
    if (colon < 0 || !parseNumber(fields.left(colon), kMaxChunks, &count) || count < 1
        || !parseNumber(fields.mid(colon + 1), maxValueSize(), &length))
        return corrupt(QStringLiteral("its header is invalid"));
    return Header{static_cast<int>(count), length, end + 1};
}

} // namespace

qsizetype maxValueSize()
{
    // The header is largest for the largest value; its size bounds the first chunk's payload.
    const qsizetype capacity = qsizetype(kChunkSize) * kMaxChunks;
    return capacity - makeHeader(kMaxChunks, capacity).size();
}

Result<QList<QByteArray>> split(const QByteArray &value)
{
    if (value.size() > maxValueSize()) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("The secret is too large for the keychain (%1 bytes; at "
                                          "most %2 bytes).")
                                   .arg(value.size())
                                   .arg(maxValueSize()));
    }
    // The header's size depends on the count; the count barely depends on the header. Two
    // rounds settle it (a larger count only adds a digit).
    int count = 1;
    for (int round = 0; round < 3; ++round) {
        const qsizetype firstPayload = kChunkSize - makeHeader(count, value.size()).size();
        const qsizetype rest = std::max<qsizetype>(0, value.size() - firstPayload);
        const int needed = 1 + static_cast<int>((rest + kChunkSize - 1) / kChunkSize);
        if (needed == count)
            break;
        count = needed;
    }

    QList<QByteArray> chunks;
    chunks.reserve(count);
    const QByteArray header = makeHeader(count, value.size());
    const qsizetype firstPayload = kChunkSize - header.size();
    chunks.append(header + value.left(firstPayload));
    for (qsizetype offset = firstPayload; offset < value.size(); offset += kChunkSize)
        chunks.append(value.mid(offset, kChunkSize));
    Q_ASSERT(chunks.size() == count);
    return chunks;
}

Result<int> chunkCount(const QByteArray &firstChunk)
{
    auto header = parseHeader(firstChunk);
    if (!header)
        return header.error();
    return header.value().count;
}

Result<QByteArray> join(const QList<QByteArray> &chunks)
{
    if (chunks.isEmpty())
        return corrupt(QStringLiteral("it has no parts"));
    auto header = parseHeader(chunks.first());
    if (!header)
        return header.error();
    if (chunks.size() != header.value().count)
        return corrupt(QStringLiteral("it has %1 parts instead of %2")
                               .arg(chunks.size())
                               .arg(header.value().count));
    QByteArray value;
    value.reserve(header.value().length);
    value.append(chunks.first().mid(header.value().size));
    for (qsizetype i = 1; i < chunks.size(); ++i) {
        if (chunks.at(i).size() > kChunkSize || chunks.at(i).isEmpty())
            return corrupt(QStringLiteral("part %1 has a wrong size").arg(i));
        value.append(chunks.at(i));
    }
    if (value.size() != header.value().length)
        return corrupt(QStringLiteral("it is %1 bytes long instead of %2")
                               .arg(value.size())
                               .arg(header.value().length));
    return value;
}

QString chunkKey(const QString &key, int index)
{
    return index == 0 ? key : key + QLatin1Char('.') + QString::number(index);
}

} // namespace mcpbroker::store::SecretChunker
