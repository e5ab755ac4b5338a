// COMPARE_JSON for Qt Test: QCOMPARE cannot take nlohmann::json (its conversion operators make
// QTest's overloads ambiguous); this compares and prints both values on failure.

#pragma once

#include <QString>
#include <QTest>

#include <nlohmann/json.hpp>

#define COMPARE_JSON(actual, expected)                                                            \
    do {                                                                                           \
        const nlohmann::json actual_ = (actual);                                                   \
        const nlohmann::json expected_ = (expected);                                               \
        QVERIFY2(actual_ == expected_,                                                             \
                 qPrintable(QStringLiteral("got %1, expected %2")                                  \
                                    .arg(QString::fromStdString(actual_.dump()),                   \
                                         QString::fromStdString(expected_.dump()))));              \
    } while (false)
