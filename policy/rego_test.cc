#include "policy/rego.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "policy/eval_command.h"

namespace ccburst::policy {
namespace {

namespace json = core::json;
using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Not;

json::value J(std::string_view text) { return json::parse(text); }

std::shared_ptr<const CompiledPolicy> MustCompile(const std::string& source) {
  auto p = Compile({Module{"policy.rego", source}});
  EXPECT_OK(p);
  return p.ok() ? *p : nullptr;
}

constexpr char kResourcePolicy[] = R"(package policy
import rego.v1
default allow := false
allow if {
    input["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["sample"]
}
)";

constexpr char kDenySamplePolicy[] = R"(package policy
default allow = false
allow if { not input["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["sample"] }
)";

constexpr char kAffirmingPolicy[] = R"(package policy
import rego.v1
default allow := false
allow if { every _, submod in input.submods { submod["ear.status"] == "affirming" } }
)";

constexpr char kAppraisalPolicy[] = R"(package policy
import rego.v1
default executables := 33
default hardware := 97
default configuration := 36
default file_system := 0
default instance_identity := 0
default runtime_opaque := 0
default storage_opaque := 0
default sourced_data := 0
executables := 3 if {
  input.sample.launch_digest in query_reference_value("launch_digest")
}
hardware := 2 if { input.sample.svn in query_reference_value("svn") }
configuration := 2 if { input.sample.debug == false }
trust_claims := {
  "executables": executables, "hardware": hardware, "configuration": configuration,
  "file-system": file_system, "instance-identity": instance_identity,
  "runtime-opaque": runtime_opaque, "storage-opaque": storage_opaque, "sourced-data": sourced_data,
}
extensions := {"a": 1}
)";

std::optional<json::value> Eval(const CompiledPolicy& p, std::string_view path,
                                const json::value* input, const EvalOptions& opts = {}) {
  auto r = EvalRule(p, path, input, json::object(), opts);
  EXPECT_OK(r);
  return r.ok() ? *r : std::nullopt;
}

TEST(RegoKbs, ResourcePolicyAllowsSampleEvidence) {
  auto p = MustCompile(kResourcePolicy);
  json::value in =
      J(R"({"submods":{"cpu0":{"ear.veraison.annotated-evidence":{"sample":{"svn":"1"}}}}})");
  EXPECT_EQ(Eval(*p, "data.policy.allow", &in), json::value(true));
  json::value other = J(R"({"submods":{"cpu0":{"ear.veraison.annotated-evidence":{"tdx":{}}}}})");
  EXPECT_EQ(Eval(*p, "data.policy.allow", &other), json::value(false));
  EXPECT_EQ(Eval(*p, "data.policy.allow", nullptr), json::value(false));
}

TEST(RegoKbs, DenySamplePolicy) {
  auto p = MustCompile(kDenySamplePolicy);
  json::value sample =
      J(R"({"submods":{"cpu0":{"ear.veraison.annotated-evidence":{"sample":{}}}}})");
  json::value tdx = J(R"({"submods":{"cpu0":{"ear.veraison.annotated-evidence":{"tdx":{}}}}})");
  EXPECT_EQ(Eval(*p, "data.policy.allow", &sample), json::value(false));
  EXPECT_EQ(Eval(*p, "data.policy.allow", &tdx), json::value(true));
}

TEST(RegoKbs, EveryAffirming) {
  auto p = MustCompile(kAffirmingPolicy);
  json::value good =
      J(R"({"submods":{"cpu0":{"ear.status":"affirming"},"gpu0":{"ear.status":"affirming"}}})");
  json::value bad =
      J(R"({"submods":{"cpu0":{"ear.status":"affirming"},"gpu0":{"ear.status":"warning"}}})");
  json::value empty = J(R"({"submods":{}})");
  EXPECT_EQ(Eval(*p, "data.policy.allow", &good), json::value(true));
  EXPECT_EQ(Eval(*p, "data.policy.allow", &bad), json::value(false));
  EXPECT_EQ(Eval(*p, "data.policy.allow", &empty), json::value(true));
}

std::vector<HostFunction> ReferenceValues() {
  return {HostFunction{"query_reference_value", 1,
                       [](const std::vector<json::value>& args) -> absl::StatusOr<json::value> {
                         const auto& id = args[0].as_string();
                         if (id == "launch_digest") return J(R"(["abcd", "ef01"])");
                         if (id == "svn") return J(R"([1, 2])");
                         return json::array();
                       }}};
}

TEST(RegoKbs, AppraisalPolicy) {
  auto p = MustCompile(kAppraisalPolicy);
  auto hosts = ReferenceValues();
  EvalOptions opts;
  opts.host_functions = &hosts;
  json::value in = J(R"({"sample":{"launch_digest":"ef01","svn":2,"debug":false}})");
  auto claims = Eval(*p, "data.policy.trust_claims", &in, opts);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(*claims, J(R"({"executables":3,"hardware":2,"configuration":2,"file-system":0,
      "instance-identity":0,"runtime-opaque":0,"storage-opaque":0,"sourced-data":0})"));
  EXPECT_EQ(Eval(*p, "data.policy.extensions", &in, opts), J(R"({"a":1})"));

  json::value bad = J(R"({"sample":{"launch_digest":"0000","svn":7,"debug":true}})");
  auto bad_claims = Eval(*p, "data.policy.trust_claims", &bad, opts);
  ASSERT_TRUE(bad_claims.has_value());
  EXPECT_EQ(bad_claims->at("executables"), json::value(33));
  EXPECT_EQ(bad_claims->at("hardware"), json::value(97));
  EXPECT_EQ(bad_claims->at("configuration"), json::value(36));
}

TEST(RegoHost, ErrorAbortsEvaluation) {
  auto p = MustCompile(kAppraisalPolicy);
  std::vector<HostFunction> hosts{
      HostFunction{"query_reference_value", 1,
                   [](const std::vector<json::value>&) -> absl::StatusOr<json::value> {
                     return absl::UnavailableError("reference values: store down");
                   }}};
  EvalOptions opts;
  opts.host_functions = &hosts;
  json::value in = J(R"({"sample":{"launch_digest":"ef01"}})");
  auto r = EvalRule(*p, "data.policy.executables", &in, json::object(), opts);
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kUnavailable, "reference values: store down"));
}

TEST(RegoHost, MissingHostFunctionIsAnError) {
  auto p = MustCompile(kAppraisalPolicy);
  json::value in = J(R"({"sample":{"launch_digest":"ef01"}})");
  auto r = EvalRule(*p, "data.policy.executables", &in, json::object(), {});
  ASSERT_THAT(r, StatusIs(_, HasSubstr("undefined function query_reference_value")));
}

TEST(RegoSemantics, UndefinedFalseAndErrorAreDistinct) {
  auto p = MustCompile(R"(package t
f := false
u if { input.missing }
e := 1 / 0
)");
  json::value in = json::object();
  EXPECT_EQ(Eval(*p, "data.t.f", &in), json::value(false));
  EXPECT_EQ(Eval(*p, "data.t.u", &in), std::nullopt);
  auto err = EvalRule(*p, "data.t.e", &in, json::object(), {});
  ASSERT_THAT(err, StatusIs(_, HasSubstr("eval_builtin_error: div: divide by zero")));
  EXPECT_EQ(ErrorCode(err.status()), "eval_builtin_error");
  // Non-strict mode turns the builtin error into undefined.
  EvalOptions lax;
  lax.strict_builtin_errors = false;
  EXPECT_EQ(Eval(*p, "data.t.e", &in, lax), std::nullopt);
}

TEST(RegoSemantics, ConflictIsAnError) {
  auto p = MustCompile(R"(package t
p := 1
p := 2 if { true }
)");
  auto r = EvalRule(*p, "data.t.p", nullptr, json::object(), {});
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_EQ(ErrorCode(r.status()), "eval_conflict_error");
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("complete rules must not produce multiple outputs"));
}

TEST(RegoSemantics, SetsAreSortedArraysInJson) {
  auto p = MustCompile(R"(package t
s contains x if { some x in [3, 1, 2, 1] }
o[k] := v if { some k, v in {"b": 2, "a": 1} }
)");
  EXPECT_EQ(Eval(*p, "data.t.s", nullptr), J("[1,2,3]"));
  EXPECT_EQ(Eval(*p, "data.t.o", nullptr), J(R"({"a":1,"b":2})"));
}

TEST(RegoQuery, ResultSet) {
  auto p = MustCompile(R"(package x
p contains v if { some v in [1, 4] }
)");
  auto r = EvalQuery(*p, "data.x.p[y]; y > 1", nullptr, json::object(), {});
  ASSERT_OK(r);
  EXPECT_EQ(json::value(*r), J(R"([{"y":4}])"));
  auto none = EvalQuery(*p, "data.x.p[y]; y > 10", nullptr, json::object(), {});
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST(RegoParse, ErrorPositions) {
  auto r = Compile({Module{"bad.rego", "package p\n\nallow if {\n  x := \n}\n"}});
  ASSERT_THAT(
      r, StatusIs(absl::StatusCode::kInvalidArgument, "bad.rego:5:1: expected term, found `}`"));
  auto r2 = Compile({Module{"m.rego", "package\n"}});
  ASSERT_THAT(r2, StatusIs(_, "m.rego:2:1: expected package name, found end of input"));
  auto r3 = Compile({Module{"v0.rego", "package p\nallow { true }\n"}});
  ASSERT_THAT(r3, StatusIs(_, HasSubstr("v0.rego:2:7: expected `if`")));
}

TEST(RegoLimits, StepLimit) {
  auto p = MustCompile(R"(package t
n := count([x | some x in numbers.range(1, 100000)])
)");
  EvalOptions opts;
  opts.limits.max_steps = 1000;
  auto r = EvalRule(*p, "data.t.n", nullptr, json::object(), opts);
  ASSERT_THAT(
      r, StatusIs(absl::StatusCode::kResourceExhausted, "policy: evaluation exceeded 1000 steps"));
}

TEST(RegoLimits, DepthLimitStopsLongCallChains) {
  std::string text = "package t\nr := f0(1)\n";
  for (int i = 0; i < 300; ++i) text += fmt::format("f{}(x) := f{}(x)\n", i, i + 1);
  text += "f300(x) := x\n";
  auto p = MustCompile(text);
  auto r = EvalRule(*p, "data.t.r", nullptr, json::object(), {});
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("maximum depth")));
}

// OPA refuses recursion when it compiles, whether through rules, functions or the package
// document; so do we (the evaluator keeps its own check as a second line).
TEST(RegoCompileChecks, RecursionIsACompileError) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"package policy\nallow if { allow }\n",
       "p.rego:2:1: rego_recursion_error: rule data.policy.allow is recursive: data.policy.allow "
       "-> data.policy.allow"},
      {"package t\na if { b }\nb if { a }\n",
       "p.rego:2:1: rego_recursion_error: rule data.t.a is recursive: data.t.a -> data.t.b -> "
       "data.t.a"},
      {"package t\nf(x) := y if { y := g(x) }\ng(x) := y if { y := f(x) }\nr := f(1)\n",
       "rule data.t.f is recursive: data.t.f -> data.t.g -> data.t.f"},
      {"package t\np if { data.t[_] }\n", "rule data.t.p is recursive: data.t.p -> data.t.p"},
      {"package t\nimport data.t.q\np if { q }\nq if { count(data.t) > 1 }\n", "recursive"},
  };
  for (const auto& c : cases) {
    auto r = Compile({Module{"p.rego", c.text}});
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error))) << c.text;
    if (!r.ok()) {
      EXPECT_EQ(ErrorCode(r.status()), "rego_recursion_error");
    }
  }
  // Not recursion: reading base data beside the package, and a rule reading another.
  EXPECT_OK(Compile({Module{"p.rego", "package t\np := data[2]\nq := p\nr := data.x[_]\n"}}));
}

PolicyContract KbsContract() {
  PolicyContract c;
  c.package = {"policy"};
  c.required_rules = {"allow"};
  c.host_functions = {{"query_reference_value", 1}};
  c.data_roots = {"plugin", "resource-path", "query"};
  return c;
}

TEST(RegoCompileChecks, ContractRefusesWhatCouldNeverWork) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"package policy\nallow if { no_such_function(input.x) }\n",
       "p.rego:2:12: rego_type_error: undefined function no_such_function"},
      {"package policy\nallow if { x := query_reference_value(1, 2, 3) }\n",
       "rego_type_error: query_reference_value: arity mismatch: 3 arguments given, function takes "
       "1"},
      {"package policy\nallow if { data.policy.alow }\n",
       "p.rego:2:12: rego_type_error: undefined ref: data.policy.alow"},
      {"package policy\nallow if { data.resource_path[0] == \"x\" }\n",
       "rego_type_error: undefined ref: data.resource_path"},
      {"package kbs\nallow := true\n",
       "p.rego:1:9: rego_compile_error: package kbs is not policy, the package that is evaluated"},
      {"package policy\nallowed := true\n",
       "p.rego:1:9: rego_compile_error: no allow rule in package policy (data.policy.allow is "
       "evaluated)"},
      {"package policy\nallow(x) := true\n", "no allow rule in package policy"},
  };
  for (const auto& c : cases) {
    auto p = Compile({Module{"p.rego", c.text}});
    ASSERT_OK(p) << c.text;
    absl::Status s = CheckContract(**p, KbsContract());
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error))) << c.text;
  }
  // The same checks pass a policy that uses what the contract offers.
  auto ok = Compile({Module{"p.rego", R"(package policy
import rego.v1
default allow := false
allow if {
  data["resource-path"][0] == "default"
  data.query.x == "1"
  data.plugin == "resource"
  helper(input.a)
  query_reference_value("svn") == input.svn
  data.policy.other
}
helper(x) := x > 1
other := true
)"}});
  ASSERT_OK(ok);
  EXPECT_OK(CheckContract(**ok, KbsContract()));
}

TEST(RegoLimits, HugeRangeIsBoundedInEveryMode) {
  auto p = MustCompile("package t\nn := count(numbers.range(1, 1000000000000))\n");
  for (bool strict : {true, false}) {
    EvalOptions opts;
    opts.strict_builtin_errors = strict;
    auto r = EvalRule(*p, "data.t.n", nullptr, json::object(), opts);
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted));
  }
}

TEST(RegoLimits, StringDoublingHitsStepLimit) {
  std::string src = "package t\ns0 := \"" + std::string(64, 'a') + "\"\n";
  for (int i = 1; i <= 40; ++i) {
    src += "s" + std::to_string(i) + " := concat(\"\", [s" + std::to_string(i - 1) + ", s" +
           std::to_string(i - 1) + "])\n";
  }
  auto p = MustCompile(src);
  auto r = EvalRule(*p, "data.t.s40", nullptr, json::object(), {});
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(RegoLimits, IntegerGrowthIsBounded) {
  auto p = MustCompile("package t\nx := bits.lsh(1, 65600)\ny := bits.lsh(1, 200)\n");
  auto r = EvalRule(*p, "data.t.x", nullptr, json::object(), {});
  ASSERT_THAT(r, StatusIs(_, HasSubstr("bits.lsh: result exceeds 65536 bits")));
  auto y = EvalQueryValues(*p, "data.t.y = y", nullptr, Value::EmptyObject(), {});
  ASSERT_OK(y);
  ASSERT_EQ(y->size(), 1u);
  EXPECT_EQ((*y)[0][0].second.AsNumber().ToString(),
            "1606938044258990275541962092341162602522202993782792835301376");
}

TEST(RegoLimits, SprintfWidthIsBounded) {
  auto p = MustCompile("package t\ns := sprintf(\"%1000000000d\", [1])\n");
  auto r = EvalRule(*p, "data.t.s", nullptr, json::object(), {});
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(RegoLimits, Timeout) {
  auto p =
      MustCompile("package t\nn := count({x | some i in numbers.range(1, 3000000); x := i * 2})\n");
  EvalOptions opts;
  opts.limits.max_steps = 1'000'000'000;
  opts.limits.timeout = std::chrono::milliseconds(1);
  auto r = EvalRule(*p, "data.t.n", nullptr, json::object(), opts);
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded,
                          "policy: evaluation exceeded time limit of 1ms"));
}

TEST(RegoLimits, LongBodiesDoNotOverflowTheStack) {
  std::string src = "package t\np if {\n";
  for (int i = 0; i < 100000; ++i) src += "  input.x == 1\n";
  src += "}\n";
  auto p = MustCompile(src);
  json::value in = J(R"({"x":1})");
  auto r = EvalRule(*p, "data.t.p", &in, json::object(), {});
  // Either the evaluator fits the body in its stack budget or it stops with a limit error.
  if (!r.ok()) {
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted));
  } else {
    EXPECT_EQ(*r, json::value(true));
  }
}

TEST(RegoParse, DeepNestingIsRejected) {
  std::string deep = "package t\nx := " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  auto r = Compile({Module{"deep.rego", deep}});
  ASSERT_THAT(r, StatusIs(_, HasSubstr("nested too deeply")));
}

// A chain of left-associative operators nests without the parser recursing (found by the fuzz
// campaign: `1 - 1 - 1 ...` thousands long overflowed the evaluator's stack). Every operator
// kind is bounded like nesting; a chain of ordinary length still evaluates.
TEST(RegoParse, LongOperatorChainsAreRejected) {
  for (const char* op : {" - ", " + ", " * ", " / ", " % ", " | ", " & ", " == "}) {
    std::string chain = "1";
    for (int i = 0; i < 3000; ++i) chain += op + std::string("1");
    auto r = Compile({Module{"chain.rego", "package t\nx := " + chain + "\n"}});
    EXPECT_THAT(r, StatusIs(_, HasSubstr("more than 200 operators in a row"))) << op;
  }
  std::string sum = "0";
  for (int i = 0; i < 150; ++i) sum += " - 1";
  auto p = MustCompile("package t\nx := " + sum + "\n");
  auto r = EvalRule(*p, "data.t.x", nullptr, json::object(), {});
  ASSERT_OK(r);
  EXPECT_EQ(*r, json::value(-150));
}

// One expression with thousands of calls, each shallow (an array of them): the evaluation's
// continuations nest once per call, so it must stop at the stack limit, not overflow the stack
// (the shape of the fuzz campaign's finding, beside the operator chains above).
TEST(RegoEval, ManyCallsInOneExpressionStopAtTheStackLimit) {
  std::string elements;
  for (int i = 0; i < 20000; ++i) elements += (i ? ", " : "") + std::string("1 - 1");
  auto p = MustCompile("package t\nx := count([" + elements + "])\n");
  auto r = EvalRule(*p, "data.t.x", nullptr, json::object(), {});
  if (r.ok()) {
    EXPECT_EQ(*r, json::value(20000));
  } else {
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("stack limit")));
  }
}

TEST(RegoSemantics, UnsafeVariablesAreCompileErrors) {
  auto r = Compile({Module{"u.rego", "package t\np if { x > 1 }\n"}});
  ASSERT_THAT(r, StatusIs(_, "u.rego:2:8: rego_unsafe_var_error: var x is unsafe"));
  auto head = Compile({Module{"h.rego", "package t\np := y if { true }\n"}});
  ASSERT_THAT(head, StatusIs(_, HasSubstr("var y is unsafe")));
}

TEST(RegoSemantics, ExpressionsAreOrderedForSafety) {
  auto p = MustCompile(R"(package t
p := z if {
  z := x + y
  [x, y] = [y2, 2]
  y2 = 1
}
)");
  EXPECT_EQ(Eval(*p, "data.t.p", nullptr), json::value(3));
}

TEST(RegoSemantics, NumbersFromFuzzing) {
  // Leading zeros are decimal, not octal; integers past the double range stay usable.
  auto p = MustCompile(R"(package t
a := to_number("0008")
b := 0009 + 1
c := count({3333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333 / 7, 1})
)");
  auto r =
      EvalQuery(*p, "a := data.t.a; b := data.t.b; c := data.t.c", nullptr, json::object(), {});
  ASSERT_OK(r);
  EXPECT_EQ(json::value(*r), J(R"([{"a":8,"b":10,"c":2}])"));
}

TEST(RegoSemantics, WithReplacesInput) {
  auto p = MustCompile(R"(package t
allow if input.role == "admin"
check if { allow with input as {"role": "admin"} }
)");
  json::value in = J(R"({"role":"user"})");
  EXPECT_EQ(Eval(*p, "data.t.allow", &in), std::nullopt);
  EXPECT_EQ(Eval(*p, "data.t.check", &in), json::value(true));
}

TEST(RegoSemantics, WithReplacesData) {
  auto p = MustCompile(R"(package t
limit := data.cfg.limits.max
ok if { limit == 5 with data.cfg.limits.max as 5 }
keys := ks if { ks := {k | data.cfg[k]} with data.cfg.extra.x as 1 }
)");
  json::value data = J(R"({"cfg":{"limits":{"max":3}}})");
  auto r = EvalQuery(*p, "l := data.t.limit; o := data.t.ok; k := data.t.keys", nullptr, data, {});
  ASSERT_OK(r);
  EXPECT_EQ(json::value(*r), J(R"([{"l":3,"o":true,"k":["extra","limits"]}])"));
  auto missing = EvalQuery(*p, "x := data.none.y with data.none.y as 7", nullptr, data, {});
  ASSERT_OK(missing);
  EXPECT_EQ(json::value(*missing), J(R"([{"x":7}])"));
}

TEST(RegoSemantics, ImportsAndFunctionsAcrossPackages) {
  auto p = Compile({Module{"lib.rego", "package lib\ndouble(x) := x * 2\n"},
                    Module{"main.rego", "package main\nimport data.lib\nr := lib.double(21)\n"}});
  ASSERT_OK(p);
  EXPECT_EQ(Eval(**p, "data.main.r", nullptr), json::value(42));
  EXPECT_EQ(Eval(**p, "data.main", nullptr), J(R"({"r":42})"));
}

TEST(RegoCache, ReusesCompiledPolicies) {
  PolicyCache cache;
  auto a = cache.GetOrCompile({Module{"p.rego", kResourcePolicy}});
  auto b = cache.GetOrCompile({Module{"p.rego", kResourcePolicy}});
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.size(), 1u);
  auto c = cache.GetOrCompile({Module{"p.rego", kDenySamplePolicy}});
  ASSERT_OK(c);
  EXPECT_NE(a->get(), c->get());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_THAT(cache.GetOrCompile({Module{"bad.rego", "package"}}), Not(IsOk()));
  EXPECT_EQ(cache.size(), 2u);
}

TEST(RegoThreads, ConcurrentEvaluation) {
  auto p = MustCompile(kAffirmingPolicy);
  json::value good = J(R"({"submods":{"cpu0":{"ear.status":"affirming"}}})");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto r = EvalRule(*p, "data.policy.allow", &good, json::object(), {});
        if (r.ok() && *r == json::value(true)) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 800);
}

TEST(RegoInputTerm, ParsesSets) {
  auto v = ParseInputTerm(R"({"x": {1, 2, 3, "a"}})");
  ASSERT_OK(v);
  ASSERT_TRUE(v->FindKey("x"));
  EXPECT_TRUE(v->FindKey("x")->IsSet());
  EXPECT_EQ(v->FindKey("x")->Size(), 4u);
  EXPECT_THAT(ParseInputTerm("{x: 1}"), Not(IsOk()));
}

class EvalCommandTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(EvalCommandTest, PrintsResultSet) {
  std::string policy =
      Write("x.rego", "package x\np contains v if { some v in input.vals; v > 2 }\n");
  std::string input = Write("input.json", R"({"vals":[1,4,3]})");
  std::ostringstream out, err;
  EXPECT_EQ(PolicyEvalMain({policy}, input, std::nullopt, "y := data.x.p", out, err), 0);
  EXPECT_EQ(out.str(), "[{\"y\":[3,4]}]\n");
  EXPECT_EQ(err.str(), "");
}

TEST_F(EvalCommandTest, NoSolutionAndErrors) {
  std::string policy = Write("y.rego", "package y\np if input.missing\nz := 1 / 0\n");
  std::string data = Write("data.json", R"({"k":1})");
  std::ostringstream out, err;
  EXPECT_EQ(PolicyEvalMain({policy}, std::nullopt, data, "data.y.p", out, err), 1);
  EXPECT_EQ(out.str(), "[]\n");
  std::ostringstream out2, err2;
  EXPECT_EQ(PolicyEvalMain({policy}, std::nullopt, data, "x := data.k", out2, err2), 0);
  EXPECT_EQ(out2.str(), "[{\"x\":1}]\n");
  std::ostringstream out3, err3;
  EXPECT_EQ(PolicyEvalMain({policy}, std::nullopt, std::nullopt, "data.y.z", out3, err3), 2);
  EXPECT_THAT(err3.str(), HasSubstr("div: divide by zero"));
  std::string bad = Write("bad.rego", "package\n");
  std::ostringstream out4, err4;
  EXPECT_EQ(PolicyEvalMain({bad}, std::nullopt, std::nullopt, "data", out4, err4), 2);
  EXPECT_THAT(err4.str(), HasSubstr("bad.rego:2:1: expected package name"));
  std::ostringstream out5, err5;
  EXPECT_EQ(PolicyEvalMain({"/nonexistent/p.rego"}, std::nullopt, std::nullopt, "data", out5, err5),
            2);
}

// OPA's error code travels as a Status payload: compile and evaluation errors carry it, and a
// message that merely looks like one is not parsed back into a code.
TEST(RegoErrors, CodeIsStructuredNotParsedFromTheMessage) {
  auto r = Compile({Module{"u.rego", "package u\nimport rego.v1\nx if { y }\n"}});
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("u.rego:3:8: rego_unsafe_var_error: var y is unsafe")));
  EXPECT_EQ(ErrorCode(r.status()), "rego_unsafe_var_error");
  EXPECT_EQ(ErrorCode(absl::InvalidArgumentError("policy.rego:1: eval_type_error: spoofed")), "");
  EXPECT_EQ(ErrorCode(WithErrorCode(absl::InternalError("x"), "eval_builtin_error")),
            "eval_builtin_error");
  EXPECT_OK(WithErrorCode(absl::OkStatus(), "eval_builtin_error"));
}

TEST(RegoJson, ParseJsonValueReportsTheFirstProblemAndItsOffset) {
  auto v = ParseJsonValue(R"({"big": 123456789012345678901234567890})");
  ASSERT_OK(v);
  EXPECT_EQ(v->FindKey("big")->ToJsonString(), "123456789012345678901234567890");
  EXPECT_THAT(ParseJsonValue("[1] x"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                "unexpected trailing characters at offset 4"));
  EXPECT_THAT(ParseJsonValue(R"({"a" 1})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected ':' at offset")));
}

}  // namespace
}  // namespace ccburst::policy
