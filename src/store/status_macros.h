// Declares `lhs` from a Result, or returns its failure from the current
// function. Shared by both store implementations.
#pragma once

#define STORE_CONCAT_INNER_(a, b) a##b
#define STORE_CONCAT_(a, b) STORE_CONCAT_INNER_(a, b)
#define STORE_ASSIGN_OR_RETURN(lhs, expr) STORE_ASSIGN_OR_RETURN_IMPL_(STORE_CONCAT_(store_r_, __LINE__), lhs, expr)
#define STORE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
