#include "policy/parser.h"

#include <fmt/format.h>

#include "policy/lexer.h"

namespace ccburst::policy {

std::string Term::FnName() const {
  std::string out;
  for (size_t i = 0; i < fn_path.size(); ++i) {
    if (i) out.push_back('.');
    out += fn_path[i];
  }
  return out;
}

namespace {

constexpr int kMaxNesting = 200;

bool IsKeyword(std::string_view s) {
  static const char* const kKeywords[] = {"as",    "contains", "default", "else", "every",
                                          "false", "if",       "import",  "in",   "not",
                                          "null",  "package",  "some",    "true", "with"};
  for (const char* k : kKeywords) {
    if (s == k) return true;
  }
  return false;
}

// Thrown inside the parser only; converted to a Status at the entry points.
struct ParseError {
  std::string message;
};

class Parser {
 public:
  Parser(std::string_view name, std::vector<Token> toks) : name_(name), toks_(std::move(toks)) {}

  ParsedModule Module() {
    ParsedModule mod;
    mod.name = std::string(name_);
    ExpectKeyword("package");
    mod.package_line = Peek().line;
    mod.package_col = Peek().col;
    mod.package = PackagePath();
    while (IsKw("import") && !KeywordRefStart()) mod.imports.push_back(ImportDecl());
    while (Peek().kind != Tok::kEof) {
      if (!Peek().newline_before) Fail("expected newline before rule");
      ParseRuleInto(mod);
    }
    for (auto& r : mod.rules) r->module = mod.name;
    return mod;
  }

  std::shared_ptr<Body> Query() {
    auto body = std::make_shared<Body>();
    while (Peek().kind != Tok::kEof) {
      body->exprs.push_back(Literal());
      if (Peek().kind == Tok::kSemicolon) {
        Next();
        continue;
      }
      if (Peek().kind == Tok::kEof) break;
      if (!Peek().newline_before) Fail("expected `;` or newline");
    }
    if (body->exprs.empty()) Fail("expected query");
    return body;
  }

  TermPtr SingleTerm() {
    TermPtr t = InExpr();
    if (Peek().kind != Tok::kEof) Fail("expected end of term");
    return t;
  }

 private:
  // ---- token helpers ----
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, toks_.size() - 1);
    return toks_[i];
  }
  const Token& Next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool IsKw(std::string_view kw, size_t ahead = 0) const {
    return Peek(ahead).kind == Tok::kIdent && Peek(ahead).text == kw;
  }
  // A keyword immediately followed by `.name` is a reference, not a keyword.
  bool KeywordRefStart(size_t ahead = 0) const {
    return Peek(ahead + 1).kind == Tok::kDot && !Peek(ahead + 1).space_before &&
           Peek(ahead + 2).kind == Tok::kIdent && !Peek(ahead + 2).space_before;
  }
  [[noreturn]] void Fail(const std::string& expected) { FailAt(Peek(), expected); }
  [[noreturn]] void FailAt(const Token& t, const std::string& expected) {
    throw ParseError{
        fmt::format("{}:{}:{}: {}, found {}", name_, t.line, t.col, expected, DescribeToken(t))};
  }
  const Token& Expect(Tok k, const char* what) {
    if (Peek().kind != k) Fail(fmt::format("expected {}", what));
    return Next();
  }
  void ExpectKeyword(const char* kw) {
    if (!IsKw(kw)) Fail(fmt::format("expected `{}`", kw));
    Next();
  }

  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p(p) {
      if (++p->depth_ > kMaxNesting) p->Fail("expression nested too deeply: expected term");
    }
    ~DepthGuard() { --p->depth_; }
    Parser* p;
  };
  // Each operator of a left-associative chain (`a - b - c ...`) nests the term built so far one
  // level deeper without the parser recursing, and the evaluator recurses on it: counted like
  // nesting, so a long chain cannot exhaust the evaluator's stack.
  void ChainLink(int& links) {
    if (depth_ + ++links > kMaxNesting) {
      Fail(fmt::format("expression nested too deeply: more than {} operators in a row",
                       kMaxNesting));
    }
  }

  static TermPtr MakeTerm(TermKind k, const Token& at) {
    auto t = std::make_shared<Term>();
    t->kind = k;
    t->line = at.line;
    t->col = at.col;
    return t;
  }
  static TermPtr Scalar(Value v, const Token& at) {
    auto t = MakeTerm(TermKind::kScalar, at);
    t->value = std::move(v);
    return t;
  }
  TermPtr Var(const std::string& name, const Token& at) {
    auto t = MakeTerm(TermKind::kVar, at);
    if (name == "_") {
      t->name = fmt::format("_$w{}", wildcard_counter_++);
      t->wildcard = true;
    } else {
      t->name = name;
    }
    return t;
  }
  static TermPtr Call(std::vector<std::string> fn, std::vector<TermPtr> args, const Token& at) {
    auto t = MakeTerm(TermKind::kCall, at);
    t->fn_path = std::move(fn);
    t->elems = std::move(args);
    return t;
  }

  // ---- module level ----
  std::vector<std::string> PackagePath() {
    std::vector<std::string> path;
    const Token& first = Expect(Tok::kIdent, "package name");
    path.push_back(first.text);
    while (true) {
      if (Peek().kind == Tok::kDot && !Peek().space_before) {
        Next();
        path.push_back(Expect(Tok::kIdent, "identifier").text);
      } else if (Peek().kind == Tok::kLBrack && !Peek().space_before) {
        Next();
        const Token& s = Expect(Tok::kString, "string");
        path.push_back(s.text);
        Expect(Tok::kRBrack, "`]`");
      } else {
        break;
      }
    }
    return path;
  }

  Import ImportDecl() {
    Import imp;
    imp.line = Peek().line;
    imp.col = Peek().col;
    Next();  // import
    const Token& head = Expect(Tok::kIdent, "import path");
    imp.path.push_back(Var(head.text, head));
    while (true) {
      if (Peek().kind == Tok::kDot && !Peek().space_before) {
        Next();
        const Token& id = Expect(Tok::kIdent, "identifier");
        imp.path.push_back(Scalar(Value::String(id.text), id));
      } else if (Peek().kind == Tok::kLBrack && !Peek().space_before) {
        Next();
        const Token& s = Expect(Tok::kString, "string");
        imp.path.push_back(Scalar(Value::String(s.text), s));
        Expect(Tok::kRBrack, "`]`");
      } else {
        break;
      }
    }
    if (IsKw("as") && !Peek().newline_before) {
      Next();
      imp.alias = Expect(Tok::kIdent, "import alias").text;
    } else if (imp.path.size() > 1) {
      imp.alias = imp.path.back()->value.AsString();
    } else {
      imp.alias = head.text;
    }
    return imp;
  }

  // Parses `name(.name | [term])*` for a rule head.
  std::vector<TermPtr> HeadRef() {
    std::vector<TermPtr> ref;
    const Token& name = Expect(Tok::kIdent, "rule name");
    ref.push_back(Scalar(Value::String(name.text), name));
    while (true) {
      if (Peek().kind == Tok::kDot && !Peek().space_before) {
        Next();
        const Token& id = Expect(Tok::kIdent, "identifier");
        ref.push_back(Scalar(Value::String(id.text), id));
      } else if (Peek().kind == Tok::kLBrack && !Peek().space_before) {
        Next();
        ref.push_back(InExpr());
        Expect(Tok::kRBrack, "`]`");
      } else {
        break;
      }
    }
    return ref;
  }

  void ParseRuleInto(ParsedModule& mod) {
    auto rule = std::make_shared<Rule>();
    const Token& start = Peek();
    rule->line = start.line;
    rule->col = start.col;
    if (IsKw("default") && !KeywordRefStart()) {
      Next();
      rule->is_default = true;
    }
    if (Peek().kind != Tok::kIdent) Fail("expected rule name");
    if (IsKeyword(Peek().text) && !KeywordRefStart()) Fail("expected rule name");
    rule->ref = HeadRef();
    bool is_function = false;
    if (Peek().kind == Tok::kLParen && !Peek().space_before) {
      is_function = true;
      Next();
      if (Peek().kind != Tok::kRParen) {
        while (true) {
          rule->args.push_back(InExpr());
          if (Peek().kind == Tok::kComma) {
            Next();
            continue;
          }
          break;
        }
      }
      Expect(Tok::kRParen, "`)`");
    }
    bool has_contains = false;
    if (IsKw("contains") && !Peek().newline_before) {
      if (is_function || rule->is_default) Fail("expected `:=` or `=`");
      Next();
      has_contains = true;
      rule->key = InExpr();
    } else if ((Peek().kind == Tok::kAssign || Peek().kind == Tok::kUnify) &&
               !Peek().newline_before) {
      Next();
      rule->value = InExpr();
    } else if (rule->is_default) {
      Fail("expected `:=` or `=`");
    }
    // Classify.
    size_t static_len = 0;
    while (static_len < rule->ref.size() && rule->ref[static_len]->kind == TermKind::kScalar &&
           rule->ref[static_len]->value.IsString()) {
      ++static_len;
    }
    rule->static_len = static_len;
    if (is_function) {
      if (static_len != rule->ref.size()) FailAt(start, "expected function name");
      rule->kind = RuleKind::kFunction;
    } else if (has_contains) {
      if (static_len != rule->ref.size())
        FailAt(start, "expected static rule name before `contains`");
      rule->kind = RuleKind::kPartialSet;
    } else if (static_len != rule->ref.size()) {
      rule->kind = RuleKind::kPartialObject;
    } else {
      rule->kind = RuleKind::kComplete;
    }
    if (rule->is_default) {
      if (rule->kind == RuleKind::kPartialObject)
        FailAt(start, "expected complete rule after `default`");
      rule->body = std::make_shared<Body>();
      mod.rules.push_back(rule);
      return;
    }
    // Body.
    if (IsKw("if") && !Peek().newline_before) {
      Next();
      rule->body = RuleBody();
    } else if (Peek().kind == Tok::kLBrace && !Peek().newline_before) {
      Fail("expected `if` before rule body");
    } else {
      rule->body = std::make_shared<Body>();
    }
    // Else chain.
    while (IsKw("else") && !KeywordRefStart()) {
      if (rule->kind != RuleKind::kComplete && rule->kind != RuleKind::kFunction) {
        Fail("expected rule; `else` is only allowed after complete rules and functions");
      }
      ElseClause ec;
      ec.line = Peek().line;
      ec.col = Peek().col;
      Next();
      if (Peek().kind == Tok::kAssign || Peek().kind == Tok::kUnify) {
        Next();
        ec.value = InExpr();
      }
      if (IsKw("if")) {
        Next();
        ec.body = RuleBody();
      } else if (Peek().kind == Tok::kLBrace) {
        Fail("expected `if` before else body");
      } else {
        ec.body = std::make_shared<Body>();
      }
      rule->elses.push_back(std::move(ec));
    }
    mod.rules.push_back(rule);
  }

  // After `if`: `{ body }` or a single literal.
  std::shared_ptr<Body> RuleBody() {
    if (Peek().kind == Tok::kLBrace) return BracedBody();
    auto body = std::make_shared<Body>();
    body->exprs.push_back(Literal());
    return body;
  }

  std::shared_ptr<Body> BracedBody() {
    DepthGuard guard(this);
    Expect(Tok::kLBrace, "`{`");
    auto body = std::make_shared<Body>();
    while (Peek().kind != Tok::kRBrace) {
      if (Peek().kind == Tok::kEof) Fail("expected `}`");
      body->exprs.push_back(Literal());
      if (Peek().kind == Tok::kSemicolon) {
        Next();
        continue;
      }
      if (Peek().kind == Tok::kRBrace) break;
      if (!Peek().newline_before) Fail("expected `;`, newline or `}`");
    }
    Next();
    if (body->exprs.empty()) FailAt(Peek(), "expected body expression; empty body");
    return body;
  }

  // Body parsed between `|` and the closing bracket of a comprehension.
  std::shared_ptr<Body> ComprehensionBody(Tok close) {
    auto body = std::make_shared<Body>();
    while (Peek().kind != close) {
      if (Peek().kind == Tok::kEof) Fail("expected closing bracket of comprehension");
      body->exprs.push_back(Literal());
      if (Peek().kind == Tok::kSemicolon) {
        Next();
        continue;
      }
      if (Peek().kind == close) break;
      if (!Peek().newline_before) Fail("expected `;` or newline in comprehension body");
    }
    if (body->exprs.empty()) Fail("expected comprehension body");
    return body;
  }

  // ---- literals ----
  Expr Literal() {
    DepthGuard guard(this);
    Expr e;
    e.line = Peek().line;
    e.col = Peek().col;
    if (IsKw("some") && !KeywordRefStart()) {
      Next();
      std::vector<TermPtr> terms;
      terms.push_back(RelExpr());
      while (Peek().kind == Tok::kComma) {
        Next();
        terms.push_back(RelExpr());
      }
      if (IsKw("in")) {
        Next();
        if (terms.size() > 2) Fail("expected at most two terms before `in`");
        e.kind = ExprKind::kSomeIn;
        if (terms.size() == 2) {
          e.key = terms[0];
          e.val = terms[1];
        } else {
          e.val = terms[0];
        }
        e.coll = RelExpr();
      } else {
        for (auto& t : terms) {
          if (t->kind != TermKind::kVar) Fail("expected variable in `some` declaration");
        }
        e.kind = ExprKind::kSome;
        e.some_vars = std::move(terms);
      }
      ParseWith(e);
      return e;
    }
    if (IsKw("every") && !KeywordRefStart()) {
      Next();
      e.kind = ExprKind::kEvery;
      const Token& first = Expect(Tok::kIdent, "variable after `every`");
      TermPtr a = Var(first.text, first);
      if (Peek().kind == Tok::kComma) {
        Next();
        const Token& second = Expect(Tok::kIdent, "variable");
        e.key = a;
        e.val = Var(second.text, second);
      } else {
        e.val = a;
      }
      ExpectKeyword("in");
      e.coll = RelExpr();
      e.body = BracedBody();
      ParseWith(e);
      return e;
    }
    if (IsKw("not") && !KeywordRefStart()) {
      Next();
      e.negated = true;
    }
    TermPtr lhs = InExprOrPair();
    if ((Peek().kind == Tok::kUnify || Peek().kind == Tok::kAssign) && !Peek().newline_before) {
      bool assign = Peek().kind == Tok::kAssign;
      Next();
      e.kind = assign ? ExprKind::kAssign : ExprKind::kUnify;
      e.lhs = lhs;
      e.rhs = InExpr();
    } else {
      e.kind = ExprKind::kTerm;
      e.lhs = lhs;
    }
    ParseWith(e);
    return e;
  }

  void ParseWith(Expr& e) {
    while (IsKw("with") && !KeywordRefStart()) {
      Next();
      WithModifier w;
      w.target = PrimaryWithPostfix();
      ExpectKeyword("as");
      w.value = InExpr();
      e.with.push_back(std::move(w));
    }
  }

  // ---- terms, lowest to highest precedence ----
  TermPtr InExpr() {
    DepthGuard guard(this);
    return ContinueIn(RelExpr());
  }

  TermPtr ContinueIn(TermPtr left) {
    while (IsKw("in") && !Peek().newline_before && !KeywordRefStart()) {
      Token at = Next();
      TermPtr right = RelExpr();
      left = Call({"internal", "member_2"}, {left, right}, at);
    }
    return left;
  }

  // Where a comma cannot separate list items (a literal, or inside parentheses), `k, v in c`
  // is a membership test with key and value.
  TermPtr InExprOrPair() {
    DepthGuard guard(this);
    TermPtr first = InExpr();
    if (Peek().kind != Tok::kComma) return first;
    Token at = Next();
    TermPtr v = RelExpr();
    if (!IsKw("in")) Fail("expected `in`");
    Next();
    TermPtr coll = RelExpr();
    return ContinueIn(Call({"internal", "member_3"}, {first, v, coll}, at));
  }

  TermPtr RelExpr() {
    TermPtr left = OrExpr();
    int links = 0;
    while (!Peek().newline_before) {
      const char* op = nullptr;
      switch (Peek().kind) {
        case Tok::kEq:
          op = "equal";
          break;
        case Tok::kNeq:
          op = "neq";
          break;
        case Tok::kLt:
          op = "lt";
          break;
        case Tok::kLte:
          op = "lte";
          break;
        case Tok::kGt:
          op = "gt";
          break;
        case Tok::kGte:
          op = "gte";
          break;
        default:
          break;
      }
      if (!op) break;
      Token at = Next();
      ChainLink(links);
      TermPtr right = OrExpr();
      left = Call({op}, {left, right}, at);
    }
    return left;
  }

  TermPtr OrExpr() {
    TermPtr left = AndExpr();
    int links = 0;
    while (Peek().kind == Tok::kPipe && !no_pipe_ && !Peek().newline_before) {
      Token at = Next();
      ChainLink(links);
      TermPtr right = AndExpr();
      left = Call({"or"}, {left, right}, at);
    }
    return left;
  }

  TermPtr AndExpr() {
    TermPtr left = ArithExpr();
    int links = 0;
    while (Peek().kind == Tok::kAmp && !Peek().newline_before) {
      Token at = Next();
      ChainLink(links);
      TermPtr right = ArithExpr();
      left = Call({"and"}, {left, right}, at);
    }
    return left;
  }

  TermPtr ArithExpr() {
    TermPtr left = FactorExpr();
    int links = 0;
    while ((Peek().kind == Tok::kPlus || Peek().kind == Tok::kMinus) && !Peek().newline_before) {
      bool plus = Peek().kind == Tok::kPlus;
      Token at = Next();
      ChainLink(links);
      TermPtr right = FactorExpr();
      left = Call({plus ? "plus" : "minus"}, {left, right}, at);
    }
    return left;
  }

  TermPtr FactorExpr() {
    TermPtr left = Unary();
    int links = 0;
    while (
        (Peek().kind == Tok::kStar || Peek().kind == Tok::kSlash || Peek().kind == Tok::kPercent) &&
        !Peek().newline_before) {
      const char* op = Peek().kind == Tok::kStar    ? "mul"
                       : Peek().kind == Tok::kSlash ? "div"
                                                    : "rem";
      Token at = Next();
      ChainLink(links);
      TermPtr right = Unary();
      left = Call({op}, {left, right}, at);
    }
    return left;
  }

  TermPtr Unary() {
    if (Peek().kind == Tok::kMinus) {
      Token at = Next();
      if (Peek().kind == Tok::kNumber && !Peek().space_before) {
        const Token& num = Next();
        auto n = Number::Parse("-" + num.text);
        if (!n) FailAt(num, "expected valid number");
        return Scalar(Value::Num(*n), at);
      }
      DepthGuard guard(this);
      TermPtr operand = Unary();
      return Call({"minus"}, {Scalar(Value::Int(0), at), operand}, at);
    }
    return PrimaryWithPostfix();
  }

  // Parses comma-separated call arguments up to `)`.
  std::vector<TermPtr> CallArgs() {
    std::vector<TermPtr> args;
    int saved = no_pipe_;
    no_pipe_ = 0;
    Expect(Tok::kLParen, "`(`");
    if (Peek().kind != Tok::kRParen) {
      while (true) {
        args.push_back(InExpr());
        if (Peek().kind == Tok::kComma) {
          Next();
          continue;
        }
        break;
      }
    }
    Expect(Tok::kRParen, "`)`");
    no_pipe_ = saved;
    return args;
  }

  TermPtr PrimaryWithPostfix() {
    DepthGuard guard(this);
    const Token& t = Peek();
    TermPtr term;
    switch (t.kind) {
      case Tok::kNumber: {
        Next();
        auto n = Number::Parse(t.text);
        if (!n) FailAt(t, "expected valid number");
        return Scalar(Value::Num(*n), t);
      }
      case Tok::kString: {
        Next();
        return Scalar(Value::String(t.text), t);
      }
      case Tok::kLParen: {
        Next();
        int saved = no_pipe_;
        no_pipe_ = 0;
        term = InExprOrPair();
        no_pipe_ = saved;
        Expect(Tok::kRParen, "`)`");
        break;
      }
      case Tok::kLBrack:
        term = ArrayOrComprehension();
        break;
      case Tok::kLBrace:
        term = ObjectSetOrComprehension();
        break;
      case Tok::kIdent: {
        bool kw_ref = KeywordRefStart() || (t.text == "contains" && Peek(1).kind == Tok::kLParen &&
                                            !Peek(1).space_before);
        if (!kw_ref) {
          if (t.text == "true" || t.text == "false") {
            Next();
            return Scalar(Value::Bool(t.text == "true"), t);
          }
          if (t.text == "null") {
            Next();
            return Scalar(Value::Null(), t);
          }
          if (IsKeyword(t.text)) Fail("expected term");
        }
        Token id = Next();
        // Dotted name followed by `(` is a call.
        std::vector<std::string> names{id.text};
        size_t look = 0;
        while (Peek(look).kind == Tok::kDot && !Peek(look).space_before &&
               Peek(look + 1).kind == Tok::kIdent && !Peek(look + 1).space_before) {
          names.push_back(Peek(look + 1).text);
          look += 2;
        }
        if (Peek(look).kind == Tok::kLParen && !Peek(look).newline_before) {
          for (size_t i = 0; i < look; ++i) Next();
          if (names.size() == 1 && names[0] == "set" && Peek(1).kind == Tok::kRParen) {
            Next();
            Next();
            auto s = MakeTerm(TermKind::kSet, id);
            term = s;
          } else {
            term = Call(names, CallArgs(), id);
          }
        } else {
          term = Var(id.text, id);
        }
        break;
      }
      default:
        Fail("expected term");
    }
    return Postfix(term);
  }

  TermPtr Postfix(TermPtr term) {
    while (true) {
      const Token& t = Peek();
      if (t.kind == Tok::kDot && !t.space_before && Peek(1).kind == Tok::kIdent &&
          !Peek(1).space_before) {
        Next();
        const Token& id = Next();
        term = AppendRef(term, Scalar(Value::String(id.text), id));
      } else if (t.kind == Tok::kLBrack && !t.space_before) {
        Next();
        int saved = no_pipe_;
        no_pipe_ = 0;
        TermPtr key = InExpr();
        no_pipe_ = saved;
        Expect(Tok::kRBrack, "`]`");
        term = AppendRef(term, key);
      } else {
        return term;
      }
    }
  }

  static TermPtr AppendRef(TermPtr head, TermPtr key) {
    if (head->kind == TermKind::kRef) {
      auto copy = std::make_shared<Term>(*head);
      copy->elems.push_back(std::move(key));
      return copy;
    }
    auto ref = std::make_shared<Term>();
    ref->kind = TermKind::kRef;
    ref->line = head->line;
    ref->col = head->col;
    ref->elems.push_back(std::move(head));
    ref->elems.push_back(std::move(key));
    return ref;
  }

  TermPtr ArrayOrComprehension() {
    const Token& open = Next();  // [
    auto arr = MakeTerm(TermKind::kArray, open);
    if (Peek().kind == Tok::kRBrack) {
      Next();
      return arr;
    }
    int saved = no_pipe_;
    no_pipe_ = 1;
    TermPtr first = InExpr();
    no_pipe_ = 0;
    if (Peek().kind == Tok::kPipe) {
      Next();
      auto c = MakeTerm(TermKind::kArrayCompr, open);
      c->elems.push_back(first);
      c->body = ComprehensionBody(Tok::kRBrack);
      Expect(Tok::kRBrack, "`]`");
      no_pipe_ = saved;
      return c;
    }
    arr->elems.push_back(first);
    while (Peek().kind == Tok::kComma) {
      Next();
      if (Peek().kind == Tok::kRBrack) break;
      arr->elems.push_back(InExpr());
    }
    Expect(Tok::kRBrack, "`]`");
    no_pipe_ = saved;
    return arr;
  }

  TermPtr ObjectSetOrComprehension() {
    const Token& open = Next();  // {
    if (Peek().kind == Tok::kRBrace) {
      Next();
      return MakeTerm(TermKind::kObject, open);
    }
    int saved = no_pipe_;
    no_pipe_ = 1;
    TermPtr first = InExpr();
    if (Peek().kind == Tok::kColon) {
      Next();
      TermPtr value = InExpr();
      no_pipe_ = 0;
      if (Peek().kind == Tok::kPipe) {
        Next();
        auto c = MakeTerm(TermKind::kObjectCompr, open);
        c->elems.push_back(first);
        c->elems.push_back(value);
        c->body = ComprehensionBody(Tok::kRBrace);
        Expect(Tok::kRBrace, "`}`");
        no_pipe_ = saved;
        return c;
      }
      auto obj = MakeTerm(TermKind::kObject, open);
      obj->elems.push_back(first);
      obj->elems.push_back(value);
      while (Peek().kind == Tok::kComma) {
        Next();
        if (Peek().kind == Tok::kRBrace) break;
        obj->elems.push_back(InExpr());
        Expect(Tok::kColon, "`:`");
        obj->elems.push_back(InExpr());
      }
      Expect(Tok::kRBrace, "`}`");
      no_pipe_ = saved;
      return obj;
    }
    no_pipe_ = 0;
    if (Peek().kind == Tok::kPipe) {
      Next();
      auto c = MakeTerm(TermKind::kSetCompr, open);
      c->elems.push_back(first);
      c->body = ComprehensionBody(Tok::kRBrace);
      Expect(Tok::kRBrace, "`}`");
      no_pipe_ = saved;
      return c;
    }
    auto set = MakeTerm(TermKind::kSet, open);
    set->elems.push_back(first);
    while (Peek().kind == Tok::kComma) {
      Next();
      if (Peek().kind == Tok::kRBrace) break;
      set->elems.push_back(InExpr());
    }
    Expect(Tok::kRBrace, "`}`");
    no_pipe_ = saved;
    return set;
  }

  std::string_view name_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int no_pipe_ = 0;
  int wildcard_counter_ = 0;
};

}  // namespace

absl::StatusOr<ParsedModule> ParseModule(std::string_view name, std::string_view source) {
  CCB_ASSIGN_OR_RETURN(auto toks, Tokenize(name, source));
  try {
    Parser p(name, std::move(toks));
    return p.Module();
  } catch (const ParseError& e) {
    return absl::InvalidArgumentError(e.message);
  }
}

absl::StatusOr<std::shared_ptr<Body>> ParseQuery(std::string_view source) {
  CCB_ASSIGN_OR_RETURN(auto toks, Tokenize("query", source));
  try {
    Parser p("query", std::move(toks));
    return p.Query();
  } catch (const ParseError& e) {
    return absl::InvalidArgumentError(e.message);
  }
}

absl::StatusOr<TermPtr> ParseTerm(std::string_view name, std::string_view source) {
  CCB_ASSIGN_OR_RETURN(auto toks, Tokenize(name, source));
  try {
    Parser p(name, std::move(toks));
    return p.SingleTerm();
  } catch (const ParseError& e) {
    return absl::InvalidArgumentError(e.message);
  }
}

}  // namespace ccburst::policy
