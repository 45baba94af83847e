#include "policy/eval_command.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "core/json.h"
#include "policy/rego.h"

namespace ccburst::policy {

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("policy eval: cannot read `{}`", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<Value> ReadJson(const std::string& path) {
  CCB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  CCB_ASSIGN_OR_RETURN(Value v, ParseJsonValue(text), "policy eval: {}: json", path);
  return v;
}

}  // namespace

int PolicyEvalMain(const std::vector<std::string>& policy_files,
                   const std::optional<std::string>& input_file,
                   const std::optional<std::string>& data_file, const std::string& query,
                   std::ostream& out, std::ostream& err) {
  std::vector<Module> modules;
  for (const auto& path : policy_files) {
    auto text = ReadFile(path);
    if (!text.ok()) {
      err << text.status().message() << "\n";
      return 2;
    }
    modules.push_back(Module{path, std::move(*text)});
  }
  std::optional<Value> input;
  if (input_file) {
    auto v = ReadJson(*input_file);
    if (!v.ok()) {
      err << v.status().message() << "\n";
      return 2;
    }
    input = std::move(*v);
  }
  Value data = Value::EmptyObject();
  if (data_file) {
    auto v = ReadJson(*data_file);
    if (!v.ok()) {
      err << v.status().message() << "\n";
      return 2;
    }
    data = std::move(*v);
  }
  auto policy = Compile(modules);
  if (!policy.ok()) {
    err << policy.status().message() << "\n";
    return 2;
  }
  EvalOptions options;
  auto results = EvalQueryValues(**policy, query, input ? &*input : nullptr, data, options);
  if (!results.ok()) {
    err << results.status().message() << "\n";
    return 2;
  }
  std::string text = "[";
  for (size_t i = 0; i < results->size(); ++i) {
    if (i) text += ",";
    ObjectEntries entries;
    for (const auto& [name, v] : (*results)[i]) entries.emplace_back(Value::String(name), v);
    text += Value::Object(std::move(entries)).ToJsonString();
  }
  text += "]";
  out << text << "\n";
  return results->empty() ? 1 : 0;
}

}  // namespace ccburst::policy
