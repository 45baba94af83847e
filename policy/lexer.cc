#include "policy/lexer.h"

#include <fmt/format.h>

#include "policy/value.h"

namespace ccburst::policy {

namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  Lexer(std::string_view name, std::string_view src) : name_(name), src_(src) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      bool newline = false, space = false;
      SkipSpace(newline, space);
      Token t;
      t.line = line_;
      t.col = col_;
      t.newline_before = newline || out.empty();
      t.space_before = space;
      if (pos_ >= src_.size()) {
        t.kind = Tok::kEof;
        out.push_back(std::move(t));
        return out;
      }
      char c = src_[pos_];
      if (IsIdentStart(c)) {
        size_t start = pos_;
        while (pos_ < src_.size() && IsIdentChar(src_[pos_])) Advance();
        t.kind = Tok::kIdent;
        t.text = std::string(src_.substr(start, pos_ - start));
      } else if (IsDigit(c) || (c == '.' && pos_ + 1 < src_.size() && IsDigit(src_[pos_ + 1]) &&
                                (out.empty() || space || newline))) {
        size_t start = pos_;
        while (pos_ < src_.size() && IsDigit(src_[pos_])) Advance();
        if (pos_ + 1 < src_.size() && src_[pos_] == '.' && IsDigit(src_[pos_ + 1])) {
          Advance();
          while (pos_ < src_.size() && IsDigit(src_[pos_])) Advance();
        }
        if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
          size_t save = pos_;
          int save_col = col_;
          Advance();
          if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) Advance();
          if (pos_ < src_.size() && IsDigit(src_[pos_])) {
            while (pos_ < src_.size() && IsDigit(src_[pos_])) Advance();
          } else {
            pos_ = save;
            col_ = save_col;
          }
        }
        t.kind = Tok::kNumber;
        t.text = std::string(src_.substr(start, pos_ - start));
        if (pos_ < src_.size() && IsIdentStart(src_[pos_])) {
          return Error(t.line, t.col, "invalid number");
        }
      } else if (c == '"') {
        t.kind = Tok::kString;
        CCB_ASSIGN_OR_RETURN(t.text, ScanString());
      } else if (c == '`') {
        t.kind = Tok::kString;
        t.raw = true;
        Advance();
        size_t start = pos_;
        while (pos_ < src_.size() && src_[pos_] != '`') Advance();
        if (pos_ >= src_.size()) return Error(t.line, t.col, "unterminated raw string");
        t.text = std::string(src_.substr(start, pos_ - start));
        Advance();
      } else {
        auto two = src_.substr(pos_, 2);
        Tok k;
        int len = 1;
        if (two == ":=") {
          k = Tok::kAssign, len = 2;
        } else if (two == "==") {
          k = Tok::kEq, len = 2;
        } else if (two == "!=") {
          k = Tok::kNeq, len = 2;
        } else if (two == "<=") {
          k = Tok::kLte, len = 2;
        } else if (two == ">=") {
          k = Tok::kGte, len = 2;
        } else {
          switch (c) {
            case '{':
              k = Tok::kLBrace;
              break;
            case '}':
              k = Tok::kRBrace;
              break;
            case '[':
              k = Tok::kLBrack;
              break;
            case ']':
              k = Tok::kRBrack;
              break;
            case '(':
              k = Tok::kLParen;
              break;
            case ')':
              k = Tok::kRParen;
              break;
            case '.':
              k = Tok::kDot;
              break;
            case ',':
              k = Tok::kComma;
              break;
            case ';':
              k = Tok::kSemicolon;
              break;
            case ':':
              k = Tok::kColon;
              break;
            case '=':
              k = Tok::kUnify;
              break;
            case '<':
              k = Tok::kLt;
              break;
            case '>':
              k = Tok::kGt;
              break;
            case '+':
              k = Tok::kPlus;
              break;
            case '-':
              k = Tok::kMinus;
              break;
            case '*':
              k = Tok::kStar;
              break;
            case '/':
              k = Tok::kSlash;
              break;
            case '%':
              k = Tok::kPercent;
              break;
            case '&':
              k = Tok::kAmp;
              break;
            case '|':
              k = Tok::kPipe;
              break;
            default: {
              unsigned char uc = static_cast<unsigned char>(c);
              std::string shown = uc >= 0x20 && uc < 0x7f ? fmt::format("'{}'", c)
                                                          : fmt::format("byte 0x{:02x}", uc);
              return Error(t.line, t.col, fmt::format("unexpected character {}", shown));
            }
          }
        }
        t.kind = k;
        t.text = std::string(src_.substr(pos_, len));
        for (int i = 0; i < len; ++i) Advance();
      }
      out.push_back(std::move(t));
    }
  }

 private:
  absl::Status Error(int line, int col, const std::string& msg) {
    return absl::InvalidArgumentError(fmt::format("{}:{}:{}: {}", name_, line, col, msg));
  }

  void Advance() {
    if (src_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else if ((static_cast<unsigned char>(src_[pos_]) & 0xC0) != 0x80) {
      ++col_;
    }
    ++pos_;
  }

  void SkipSpace(bool& newline, bool& space) {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '\n') {
        newline = true;
        space = true;
        Advance();
      } else if (c == ' ' || c == '\t' || c == '\r') {
        space = true;
        Advance();
      } else if (c == '#') {
        while (pos_ < src_.size() && src_[pos_] != '\n') Advance();
      } else {
        return;
      }
    }
  }

  absl::StatusOr<std::string> ScanString() {
    int line = line_, col = col_;
    Advance();  // opening quote
    std::string out;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '"') {
        Advance();
        return out;
      }
      if (c == '\n') return Error(line, col, "unterminated string");
      if (c != '\\') {
        out.push_back(c);
        Advance();
        continue;
      }
      Advance();
      if (pos_ >= src_.size()) break;
      // Escapes never span lines, so columns advance one per byte consumed.
      char e = src_[pos_];
      int escape_col = col_;
      size_t next = pos_;
      const char* what = DecodeEscape(src_, &next, out);
      if (what) {
        if (e != 'u') {
          return Error(line_, escape_col, fmt::format("invalid escape sequence '\\{}'", e));
        }
        return Error(line_, escape_col + 1, "invalid unicode escape in string");
      }
      while (pos_ < next) Advance();
    }
    return Error(line, col, "unterminated string");
  }

  std::string_view name_;
  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;
};

}  // namespace

std::string DescribeToken(const Token& t) {
  switch (t.kind) {
    case Tok::kEof:
      return "end of input";
    case Tok::kIdent:
      return fmt::format("`{}`", t.text);
    case Tok::kNumber:
      return fmt::format("number {}", t.text);
    case Tok::kString:
      return "string";
    default:
      return fmt::format("`{}`", t.text);
  }
}

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view name, std::string_view source) {
  return Lexer(name, source).Run();
}

}  // namespace ccburst::policy
