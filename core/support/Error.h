// Errors are values: ErrorOr<T> holds either a T or an ErrorCode, and TRY()
// hands an error up to the caller. No exceptions, no longjmp.
#pragma once

#include "Types.h"

namespace ks {

enum class ErrorCode : u8 {
    None = 0,
    OutOfMemory,
    LimitExceeded,
    Invalid,
};

struct Error {
    ErrorCode code;
    constexpr Error(ErrorCode c) : code(c) {}
};

template<typename T>
class [[nodiscard]] ErrorOr {
public:
    ErrorOr(T value) : m_value(move(value)), m_error(ErrorCode::None) {}
    ErrorOr(Error error) : m_value(), m_error(error.code) {}

    bool is_error() const { return m_error != ErrorCode::None; }
    Error error() const { return Error(m_error); }
    T& value() { return m_value; }
    T release_value() { return move(m_value); }

private:
    T m_value;
    ErrorCode m_error;
};

template<>
class [[nodiscard]] ErrorOr<void> {
public:
    ErrorOr() : m_error(ErrorCode::None) {}
    ErrorOr(Error error) : m_error(error.code) {}
    bool is_error() const { return m_error != ErrorCode::None; }
    Error error() const { return Error(m_error); }
    void release_value() {}

private:
    ErrorCode m_error;
};

}

#define TRY(expression)                               \
    ({                                                \
        auto _try_result = (expression);              \
        if (KS_UNLIKELY(_try_result.is_error()))      \
            return _try_result.error();               \
        _try_result.release_value();                  \
    })
