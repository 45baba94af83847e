// Runs OPA's Rego v1 conformance cases (CCB_SHARED_DIR/opa-cases, see its README.md) against
// the engine. Prints per-topic and per-tier pass counts. Fails for any failing case that is not
// listed in policy/conformance_known_failures.txt, and for any listed case that now passes, so
// the list only shrinks. Set CCB_WRITE_KNOWN_FAILURES=<path> to write the current failures.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "core/testing/status_matchers.h"
#include "policy/rego.h"

namespace ccburst::policy {
namespace {

const std::set<std::string> kTier0 = {"helloworld",
                                      "assignments",
                                      "completedoc",
                                      "virtualdocs",
                                      "eqexpr",
                                      "defaultkeyword",
                                      "elsekeyword",
                                      "disjunction",
                                      "functionerrors",
                                      "comparisonexpr",
                                      "varreferences",
                                      "nestedreferences",
                                      "compositereferences",
                                      "compositebasedereference",
                                      "dataderef",
                                      "inputvalues",
                                      "embeddedvirtualdoc",
                                      "partialiter",
                                      "evaltermexpr",
                                      "partialdocconstants",
                                      "aggregates",
                                      "negation",
                                      "comprehensions",
                                      "objectunionn",
                                      "sprintf",
                                      "sets"};
const std::set<std::string> kTier0b = {"partialsetdoc", "partialobjectdoc", "containskeyword"};

std::string ReadText(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Converts a result value to the JSON shape the expected results use, as a Value: sets become
// sorted arrays and non-string object keys their JSON text.
Value Jsonish(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kArray:
    case Value::Kind::kSet: {
      ValueVector out;
      for (const auto& e : v.AsArray()) out.push_back(Jsonish(e));
      if (v.IsSet()) std::sort(out.begin(), out.end());
      return Value::Array(std::move(out));
    }
    case Value::Kind::kObject: {
      ObjectEntries out;
      for (const auto& [k, e] : v.AsObject()) {
        out.emplace_back(k.IsString() ? k : Value::String(k.ToJsonString()), Jsonish(e));
      }
      return Value::Object(std::move(out));
    }
    default:
      return v;
  }
}

Value SortIfArray(const Value& v) {
  if (!v.IsArray()) return v;
  ValueVector elems = v.AsArray();
  std::sort(elems.begin(), elems.end());
  return Value::Array(std::move(elems));
}

struct CaseResult {
  bool pass = false;
  std::string detail;
};

CaseResult RunCase(const Value& c) {
  CaseResult res;
  const Value* query = c.FindKey("query");
  const Value* modules_v = c.FindKey("modules");
  const Value* want_error = c.FindKey("want_error");
  const Value* want_code = c.FindKey("want_error_code");
  const Value* want_result = c.FindKey("want_result");
  const Value* strict = c.FindKey("strict_error");
  const Value* sort_bindings = c.FindKey("sort_bindings");
  bool expect_error = want_error || want_code;

  auto check_error = [&](const absl::Status& st) {
    std::string msg(st.message());
    if (!expect_error) {
      res.detail = "unexpected error: " + msg;
      return;
    }
    if (want_error && msg.find(want_error->AsString()) == std::string::npos) {
      res.detail = fmt::format("error `{}` does not contain `{}`", msg, want_error->AsString());
      return;
    }
    if (want_code && ErrorCode(st) != want_code->AsString()) {
      res.detail = fmt::format("error code `{}` (message `{}`), want `{}`", ErrorCode(st), msg,
                               want_code->AsString());
      return;
    }
    res.pass = true;
  };

  std::vector<Module> modules;
  if (modules_v) {
    for (size_t i = 0; i < modules_v->AsArray().size(); ++i) {
      modules.push_back(Module{fmt::format("test-{}.rego", i), modules_v->AsArray()[i].AsString()});
    }
  }
  auto policy = Compile(modules);
  if (!policy.ok()) {
    check_error(policy.status());
    if (!res.pass && res.detail.rfind("unexpected", 0) == 0) res.detail = "compile: " + res.detail;
    return res;
  }
  Value data = Value::EmptyObject();
  if (const Value* d = c.FindKey("data")) data = *d;
  std::optional<Value> input;
  if (const Value* in = c.FindKey("input")) input = *in;
  if (const Value* term = c.FindKey("input_term")) {
    auto parsed = ParseInputTerm(term->AsString());
    if (!parsed.ok()) {
      res.detail = "input_term: " + std::string(parsed.status().message());
      return res;
    }
    input = *parsed;
  }
  EvalOptions options;
  options.strict_builtin_errors = strict && strict->IsTrue();
  options.limits.timeout = std::chrono::milliseconds(5000);
  options.limits.max_steps = 10'000'000;
  auto results =
      EvalQueryValues(**policy, query->AsString(), input ? &*input : nullptr, data, options);
  if (!results.ok()) {
    check_error(results.status());
    return res;
  }
  if (expect_error) {
    res.detail = "expected an error, got a result";
    return res;
  }
  if (!want_result) {
    res.pass = true;
    return res;
  }
  bool sort = sort_bindings && sort_bindings->IsTrue();
  ValueVector got;
  for (const auto& b : *results) {
    ObjectEntries entries;
    for (const auto& [name, v] : b) {
      Value j = Jsonish(v);
      entries.emplace_back(Value::String(name), sort ? SortIfArray(j) : j);
    }
    got.push_back(Value::Object(std::move(entries)));
  }
  ValueVector want;
  for (const auto& w : want_result->AsArray()) {
    if (!sort) {
      want.push_back(w);
      continue;
    }
    ObjectEntries entries;
    for (const auto& [k, v] : w.AsObject()) entries.emplace_back(k, SortIfArray(v));
    want.push_back(Value::Object(std::move(entries)));
  }
  Value got_set = Value::Set(got);
  Value want_set = Value::Set(want);
  if (got_set == want_set) {
    res.pass = true;
  } else {
    res.detail = fmt::format("got {} want {}", Value::Array(got).ToJsonString(),
                             Value::Array(want).ToJsonString());
    if (res.detail.size() > 300) res.detail = res.detail.substr(0, 300) + "...";
  }
  return res;
}

TEST(PolicyConformance, OpaCases) {
  std::filesystem::path dir = std::filesystem::path(CCB_SHARED_DIR) / "opa-cases";
  std::filesystem::path known_path =
      std::filesystem::path(CCB_SOURCE_DIR) / "policy" / "conformance_known_failures.txt";
  std::set<std::string> known;
  {
    std::istringstream in(ReadText(known_path));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      known.insert(line.substr(0, line.find(' ')));
    }
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no cases in " << dir;

  struct Tally {
    int pass = 0;
    int total = 0;
  };
  std::map<std::string, Tally> tiers;
  Tally all;
  std::vector<std::string> unexpected_failures, unexpected_passes, failure_lines;
  for (const auto& file : files) {
    auto doc = ParseJsonValue(ReadText(file));
    ASSERT_OK(doc) << file;
    std::string topic = doc->FindKey("topic")->AsString();
    const auto& cases = doc->FindKey("cases")->AsArray();
    Tally t;
    for (size_t i = 0; i < cases.size(); ++i) {
      std::string id = fmt::format("{}.json#{}", topic, i);
      CaseResult r = RunCase(cases[i]);
      ++t.total;
      if (r.pass) {
        ++t.pass;
        if (known.count(id)) unexpected_passes.push_back(id);
      } else {
        std::string note = cases[i].FindKey("note")->AsString();
        std::string detail = r.detail;
        std::replace(detail.begin(), detail.end(), '\n', ' ');
        failure_lines.push_back(fmt::format("{} {} — {}", id, note, detail));
        if (!known.count(id))
          unexpected_failures.push_back(fmt::format("{} ({}): {}", id, note, detail));
      }
    }
    std::string tier = kTier0.count(topic) ? "tier0" : kTier0b.count(topic) ? "tier0b" : "tier1";
    tiers[tier].pass += t.pass;
    tiers[tier].total += t.total;
    all.pass += t.pass;
    all.total += t.total;
    std::cout << fmt::format("{:<28} {:>4}/{:<4}{}\n", topic, t.pass, t.total,
                             t.pass == t.total ? "" : "  *");
  }
  for (const auto& [name, t] : tiers) {
    std::cout << fmt::format("{:<28} {:>4}/{:<4} ({:.1f}%)\n", name, t.pass, t.total,
                             100.0 * t.pass / t.total);
  }
  std::cout << fmt::format("{:<28} {:>4}/{:<4} ({:.1f}%)\n", "total", all.pass, all.total,
                           100.0 * all.pass / all.total);
  if (const char* out = std::getenv("CCB_WRITE_KNOWN_FAILURES")) {
    std::ofstream f(out);
    f << "# Conformance cases the engine does not pass yet: `<topic>.json#<index> <note> — "
         "<reason>`.\n"
      << "# policy_conformance_test fails when a case not listed here fails or a listed case "
         "passes.\n";
    for (const auto& l : failure_lines) f << l << "\n";
  }
  for (const auto& f : unexpected_failures) ADD_FAILURE() << "unexpected failure: " << f;
  for (const auto& p : unexpected_passes) {
    ADD_FAILURE() << "case now passes; remove it from conformance_known_failures.txt: " << p;
  }
}

}  // namespace
}  // namespace ccburst::policy
