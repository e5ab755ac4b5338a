#include "http/HttpSyntax.h"

#include <algorithm>

namespace mcpbroker::http::syntax {

namespace {

bool isTchar(char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

} // namespace

bool isToken(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), isTchar);
}

bool isFieldValue(QByteArrayView text)
{
    return std::none_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u != '\t' && (u < 0x20 || u == 0x7f);
    });
}

bool isWhitespace(char c)
{
    return c == ' ' || c == '\t';
}

QByteArray trimmedOws(QByteArrayView text)
{
    qsizetype begin = 0;
    qsizetype end = text.size();
    while (begin < end && isWhitespace(text.at(begin)))
        ++begin;
    while (end > begin && isWhitespace(text.at(end - 1)))
        --end;
    return text.sliced(begin, end - begin).toByteArray();
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

QList<QByteArray> listElements(const QByteArray &value)
{
    QList<QByteArray> elements;
    for (const QByteArray &part : value.split(',')) {
        QByteArray element = trimmedOws(part);
        if (!element.isEmpty())
            elements.append(std::move(element));
    }
    return elements;
}

} // namespace mcpbroker::http::syntax
