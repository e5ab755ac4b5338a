#pragma once

#include <QString>

#include <nlohmann/json.hpp>

#include <utility>
#include <variant>

namespace mcpbroker {

// What went wrong, in words a user can act on. `kind` lets code decide what to do next;
// `rpcCode` is the JSON-RPC error code to answer a client with (0 when it does not map).
struct Error
{
    enum class Kind {
        Generic,
        InvalidInput,        // the user or a client gave us something malformed
        NotFound,            // unknown server, tool, session, secret…
        Unreachable,         // connection refused, DNS, TLS, upstream process gone
        Timeout,             // a deadline we set ran out
        Cancelled,           // the caller gave up
        Unauthorized,        // upstream answered 401/403
        Protocol,            // the peer broke the protocol (bad JSON, wrong content type…)
        Rpc,                 // the peer answered with a JSON-RPC error object (see rpcCode/data)
        KeychainUnavailable, // no Secret Service / keychain at all
        KeychainLocked,      // keychain present but locked or the unlock prompt went unanswered
        Io,                  // files
        Forbidden,           // a local client is not allowed this (grant, policy, the user said no)
        Conflict,            // already there: a running instance, a name taken
    };

    Kind kind = Kind::Generic;
    QString message;
    int rpcCode = 0;
    nlohmann::json data; // JSON-RPC error data when kind == Rpc, else null

    static Error make(Kind kind, QString message) { return {kind, std::move(message), 0, {}}; }
};

// A value or an Error: expected failures are values, never exceptions (STYLE.md).
template<typename T>
class Result
{
public:
    Result(T value) : m_value(std::move(value)) { }
    Result(Error error) : m_value(std::move(error)) { }

    bool ok() const { return std::holds_alternative<T>(m_value); }
    explicit operator bool() const { return ok(); }
    const T &value() const & { return std::get<T>(m_value); }
    T &value() & { return std::get<T>(m_value); }
    T &&value() && { return std::get<T>(std::move(m_value)); }
    const Error &error() const { return std::get<Error>(m_value); }

private:
    std::variant<T, Error> m_value;
};

template<>
class Result<void>
{
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_ok(false) { }

    bool ok() const { return m_ok; }
    explicit operator bool() const { return ok(); }
    const Error &error() const { return m_error; }

private:
    Error m_error;
    bool m_ok = true;
};

} // namespace mcpbroker
