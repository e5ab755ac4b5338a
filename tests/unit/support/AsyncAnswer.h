// Answer<T>: what a test hands an asynchronous call as its callback (taking a Result<T>), and
// what the call answered and how often. STEP: calls a helper that checks with QVERIFY/QCOMPARE
// and returns from the test when it failed.

#pragma once

#include "Result.h"

#include <QString>
#include <QTest>

#include <functional>
#include <memory>
#include <optional>

// Copies share one answer: a test keeps one while the callback it made travels with the call.
template<typename T>
struct Answer
{
    static constexpr int kTimeoutMs = 20'000;

    std::shared_ptr<std::optional<mcpbroker::Result<T>>> result
            = std::make_shared<std::optional<mcpbroker::Result<T>>>();
    std::shared_ptr<int> calls = std::make_shared<int>(0);

    std::function<void(mcpbroker::Result<T>)> callback()
    {
        return [result = result, calls = calls](mcpbroker::Result<T> value) {
            ++*calls;
            *result = std::move(value);
        };
    }
    bool answered() const { return result->has_value(); }
    // Runs the event loop until the answer came; false if it did not within kTimeoutMs.
    bool wait() const
    {
        return QTest::qWaitFor([this] { return answered(); }, kTimeoutMs);
    }
    const mcpbroker::Result<T> &get() const { return **result; }
    bool ok() const { return answered() && get().ok(); }
    // The error's sentence; empty while there is no answer or when it succeeded.
    QString message() const
    {
        return answered() && !get().ok() ? get().error().message : QString();
    }
};

// Fails the current test unless `answer` (an Answer) comes within its timeout.
#define WAIT_FOR(answer) QTRY_VERIFY_WITH_TIMEOUT((answer).answered(), (answer).kTimeoutMs)

// A helper that checks with QVERIFY/QCOMPARE returns early on failure; so does its caller.
#define STEP(call) \
    do { \
        call; \
        if (QTest::currentTestFailed()) \
            return; \
    } while (false)
