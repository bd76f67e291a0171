// Status propagation macros. Debian's Abseil (20220623) ships neither RETURN_IF_ERROR nor
// ASSIGN_OR_RETURN, so Omnibridge keeps its own, prefixed to avoid clashing with future Abseil.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define OMNI_STATUS_CONCAT_INNER_(a, b) a##b
#define OMNI_STATUS_CONCAT_(a, b) OMNI_STATUS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function when it is not OK.
#define OMNI_RETURN_IF_ERROR(expr)              \
  do {                                          \
    const ::absl::Status omni_status_ = (expr); \
    if (!omni_status_.ok())                     \
      return omni_status_;                      \
  } while (false)

// OMNI_ASSIGN_OR_RETURN(lhs, expr): evaluates the StatusOr `expr`; returns its status when not OK,
// else moves its value into `lhs` (which may be a declaration such as `auto x`).
#define OMNI_ASSIGN_OR_RETURN(lhs, expr) \
  OMNI_ASSIGN_OR_RETURN_IMPL_(OMNI_STATUS_CONCAT_(omni_statusor_, __LINE__), lhs, expr)

#define OMNI_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok())                                    \
    return std::move(statusor).status();                 \
  lhs = std::move(statusor).value()
