// Tokenizer for Rego v1 source text. It records for each token its position and whether a
// newline or whitespace preceded it, because Rego separates body expressions by newlines and
// only treats `[`/`(`/`.` as reference operators when they touch the preceding term.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ccburst::policy {

enum class Tok {
  kEof,
  kIdent,   // identifiers and keywords
  kNumber,  // unsigned number text
  kString,  // quoted or raw string; `text` holds the decoded value
  kLBrace,
  kRBrace,
  kLBrack,
  kRBrack,
  kLParen,
  kRParen,
  kDot,
  kComma,
  kSemicolon,
  kColon,
  kAssign,  // :=
  kUnify,   // =
  kEq,      // ==
  kNeq,     // !=
  kLt,
  kLte,
  kGt,
  kGte,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kAmp,
  kPipe,
};

struct Token {
  Tok kind = Tok::kEof;
  std::string text;
  int line = 1;
  int col = 1;
  bool newline_before = false;
  bool space_before = false;
  bool raw = false;  // backquoted string
};

// Describes a token kind for error messages ("identifier", "`:=`").
std::string DescribeToken(const Token& t);

// Splits `source` into tokens, ending with one kEof token. Errors are InvalidArgument
// "name:line:col: <reason>".
absl::StatusOr<std::vector<Token>> Tokenize(std::string_view name, std::string_view source);

}  // namespace ccburst::policy
