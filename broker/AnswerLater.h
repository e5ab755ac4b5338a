#pragma once

#include <QMetaObject>
#include <QObject>

#include <utility>

namespace mcpbroker {

// Calls `done(value)` from the event loop, never inside the caller's call, and not at all once
// `context` is gone: the rule of every asynchronous job here that may know its answer at once.
template<typename Callback, typename Value>
void answerLater(QObject *context, Callback done, Value value)
{
    QMetaObject::invokeMethod(
            context, [done = std::move(done), value = std::move(value)] { done(value); },
            Qt::QueuedConnection);
}

} // namespace mcpbroker
