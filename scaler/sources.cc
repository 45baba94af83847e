#include "scaler/sources.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "core/file.h"
#include "core/json.h"
#include "net/url.h"

namespace ccburst::scaler {
namespace {

std::string_view TrimWs(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Value of label `name` in a `{a="x",b="y"}` block (escapes are not expected in our labels).
std::optional<std::string_view> Label(std::string_view labels, std::string_view name) {
  size_t pos = 0;
  while (pos < labels.size()) {
    size_t eq = labels.find("=\"", pos);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = TrimWs(labels.substr(pos, eq - pos));
    size_t end = labels.find('"', eq + 2);
    if (end == std::string_view::npos) return std::nullopt;
    if (key == name) return labels.substr(eq + 2, end - eq - 2);
    pos = end + 1;
    while (pos < labels.size() && (labels[pos] == ',' || labels[pos] == ' ')) ++pos;
  }
  return std::nullopt;
}

std::string Shorten(std::string_view s, size_t n = 120) {
  if (s.size() <= n) return std::string(s);
  return fmt::format("{}...", s.substr(0, n));
}

// One sample line of a /metrics text after its metric name: `rest` is `{labels} value
// [timestamp]`. Fills the labels (without braces) and the value; InvalidArgument naming the line.
absl::Status ParseSample(std::string_view rest, size_t line_no, std::string_view& labels,
                         double& v) {
  size_t close = rest.find('}');
  if (close == std::string_view::npos) {
    return absl::InvalidArgumentError(
        fmt::format("kbs metrics: line {}: unterminated labels", line_no));
  }
  labels = rest.substr(1, close - 1);
  std::string_view value = TrimWs(rest.substr(close + 1));
  if (size_t sp = value.find(' '); sp != std::string_view::npos) value = value.substr(0, sp);
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || !std::isfinite(v)) {
    return absl::InvalidArgumentError(fmt::format(
        "kbs metrics: line {}: value `{}` is not a number", line_no, Shorten(value, 40)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<double> ParseInstantQuery(std::string_view query, int http_status,
                                         std::string_view body) {
  auto bad = [&](std::string why) {
    return absl::InvalidArgumentError(
        fmt::format("prometheus: query `{}`: {}", Shorten(query), why));
  };
  auto parsed = core::ParseJson(body, core::JsonLimits{32});
  if (!parsed.ok()) {
    if (http_status != 200) return bad(fmt::format("HTTP {}", http_status));
    return bad(fmt::format("response is not JSON ({})", core::Message(parsed.status())));
  }
  const auto* root = parsed->if_object();
  if (!root) return bad("response is not a JSON object");
  const auto* status = root->if_contains("status");
  if (!status || !status->is_string() || status->as_string() != "success") {
    std::string type = "error", error = fmt::format("HTTP {}", http_status);
    if (const auto* t = root->if_contains("errorType"); t && t->is_string()) {
      type = std::string(t->as_string());
    }
    if (const auto* e = root->if_contains("error"); e && e->is_string()) {
      error = std::string(e->as_string());
    }
    return bad(fmt::format("{}: {}", type, Shorten(error, 200)));
  }
  const core::json::value* data = core::FindPath(*parsed, "data");
  const core::json::value* type = core::FindPath(*parsed, "data/resultType");
  const core::json::value* result = core::FindPath(*parsed, "data/result");
  if (!data || !type || !type->is_string() || !result) return bad("response lacks data.result");
  const core::json::value* sample = nullptr;
  if (type->as_string() == "scalar") {
    sample = result;
  } else if (type->as_string() == "vector") {
    if (!result->is_array()) return bad("data.result is not an array");
    const auto& series = result->as_array();
    if (series.empty())
      return absl::NotFoundError(
          fmt::format("prometheus: query `{}`: returned no series", Shorten(query)));
    if (series.size() > 1) {
      return bad(fmt::format("returned {} series, want 1 (aggregate with sum)", series.size()));
    }
    sample = series[0].is_object() ? series[0].as_object().if_contains("value") : nullptr;
  } else {
    return bad(fmt::format("result type `{}`, want vector or scalar",
                           std::string_view(type->as_string())));
  }
  if (!sample || !sample->is_array() || sample->as_array().size() != 2 ||
      !sample->as_array()[1].is_string()) {
    return bad("sample is not [time, \"value\"]");
  }
  std::string_view text = sample->as_array()[1].as_string();
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) {
    return bad(fmt::format("value `{}` is not a finite number", Shorten(text, 40)));
  }
  return v;
}

absl::StatusOr<std::unique_ptr<PrometheusClient>> PrometheusClient::Create(
    const PrometheusConfig& config, std::string address) {
  net::HttpClientOptions o;
  o.base_url = address;
  o.ca_certificate_file = config.ca_file;
  o.timeout = config.timeout;
  o.max_response_bytes = 4 * 1024 * 1024;
  // HttpClient::Create fails only with InvalidArgument (a bad address or CA file).
  CCB_ASSIGN_OR_RETURN(auto http, net::HttpClient::Create(std::move(o)), "prometheus: address `{}`",
                       address);
  std::optional<std::string> token;
  if (config.bearer_token_file) {
    auto t = core::ReadFile(*config.bearer_token_file);
    if (!t.ok()) {
      // A missing token file is a configuration error, not a missing resource.
      return core::WithCode(core::Annotate(t.status(), "prometheus: bearer token"),
                            absl::StatusCode::kInvalidArgument);
    }
    token = std::string(TrimWs(*t));
  }
  return std::unique_ptr<PrometheusClient>(
      new PrometheusClient(std::move(address), std::move(http), std::move(token)));
}

absl::StatusOr<double> PrometheusClient::Query(std::string_view query) {
  net::HttpHeaders headers = {{"Accept", "application/json"}};
  if (token_) headers.push_back({"Authorization", fmt::format("Bearer {}", *token_)});
  std::string path = fmt::format("/api/v1/query?query={}", net::PercentEncode(query));
  absl::StatusOr<net::HttpClientResponse> r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r = http_->Send("GET", path, {}, headers);
    if (!r.ok()) http_->Disconnect();
  }
  if (!r.ok()) {
    // The client's message repeats the long encoded URL; keep only its reason.
    std::string reason = core::Message(r.status());
    if (size_t at = reason.find(path); at != std::string::npos) {
      reason = std::string(TrimWs(reason.substr(at + path.size())));
      if (!reason.empty() && reason[0] == ':') reason = std::string(TrimWs(reason.substr(1)));
    }
    return absl::UnavailableError(
        fmt::format("prometheus: {}: query `{}`: {}", address_, Shorten(query, 60), reason));
  }
  if (r->status >= 500) {
    return absl::UnavailableError(
        fmt::format("prometheus: {}: HTTP {} for query `{}`", address_, r->status, Shorten(query)));
  }
  return ParseInstantQuery(query, r->status, r->body);
}

absl::StatusOr<AttestationCounts> ParseKbsAttestations(std::string_view text, std::string_view tee,
                                                       KbsMetricNames names) {
  constexpr std::string_view kOurs = "kbs_attestations_total";
  constexpr std::string_view kRefOk = "kbs_attestation_successes_total";
  constexpr std::string_view kRefFailed = "kbs_attestation_failures_total";
  AttestationCounts ours, reference;
  bool saw_ours = false;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        TrimWs(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::string_view name;
    for (std::string_view n : {kOurs, kRefOk, kRefFailed}) {
      if (line.substr(0, n.size()) == n && line.size() > n.size() && line[n.size()] == '{') {
        name = n;
      }
    }
    if (name.empty()) continue;  // another metric (or one with this prefix)
    std::string_view rest = line.substr(name.size());
    std::string_view labels;
    double v = 0;
    CCB_RETURN_IF_ERROR(ParseSample(rest, line_no, labels, v));
    if (name == kOurs) {
      saw_ours = true;
      auto t = Label(labels, "tee");
      auto outcome = Label(labels, "outcome");
      if (!t || *t != tee || !outcome) continue;
      (*outcome == "success" ? ours.ok : ours.failed) += v;
      continue;
    }
    // The reference KBS labels its counters with the protocol's TEE name as `tee_type`.
    auto t = Label(labels, "tee_type");
    if (!t || *t != tee) continue;
    (name == kRefOk ? reference.ok : reference.failed) += v;
  }
  switch (names) {
    case KbsMetricNames::kCcburst:
      return ours;
    case KbsMetricNames::kReference:
      return reference;
    case KbsMetricNames::kAuto:
      break;
  }
  // Our KBS exports both families; a reference KBS only its own.
  return saw_ours ? ours : reference;
}

absl::StatusOr<std::unique_ptr<KbsGate>> KbsGate::Create(const KbsGateConfig& config,
                                                         std::string url) {
  net::HttpClientOptions o;
  o.base_url = url;
  o.ca_certificate_file = config.ca_file;
  o.timeout = config.timeout;
  o.max_response_bytes = 4 * 1024 * 1024;
  CCB_ASSIGN_OR_RETURN(auto http, net::HttpClient::Create(std::move(o)), "kbs gate: url `{}`", url);
  return std::unique_ptr<KbsGate>(new KbsGate(config, std::move(url), std::move(http)));
}

absl::StatusOr<std::optional<AttestationCounts>> ParseKbsDeviceAttestations(std::string_view text,
                                                                            std::string_view arch) {
  constexpr std::string_view kName = "kbs_device_attestations_total";
  auto lower = [](std::string_view v) {
    std::string out(v);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string want = lower(arch);
  AttestationCounts counts;
  bool seen = false;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        TrimWs(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.substr(0, kName.size()) != kName || line.size() <= kName.size() ||
        line[kName.size()] != '{') {
      continue;
    }
    std::string_view rest = line.substr(kName.size());
    std::string_view labels;
    double v = 0;
    CCB_RETURN_IF_ERROR(ParseSample(rest, line_no, labels, v));
    seen = true;
    auto a = Label(labels, "arch");
    auto outcome = Label(labels, "outcome");
    if (!outcome || (!want.empty() && (!a || lower(*a) != want))) continue;
    (*outcome == "success" ? counts.ok : counts.failed) += v;
  }
  if (!seen) return std::optional<AttestationCounts>();
  return std::optional<AttestationCounts>(counts);
}

void KbsGate::Fetch(core::TimePoint now) {
  if (last_fetch_ && now - *last_fetch_ < config_.refresh) return;
  last_fetch_ = now;
  ++generation_;
  reachable_ = false;
  auto health = http_->Send("GET", "/healthz");
  if (!health.ok()) {
    http_->Disconnect();
    unreachable_why_ = fmt::format("kbs: {}: {}", url_, core::Message(health.status()));
    return;
  }
  if (health->status != 200) {
    unreachable_why_ = fmt::format("kbs: {}/healthz answered HTTP {}", url_, health->status);
    return;
  }
  auto metrics = http_->Send("GET", "/metrics");
  if (!metrics.ok() || metrics->status != 200) {
    if (!metrics.ok()) http_->Disconnect();
    unreachable_why_ = metrics.ok()
                           ? fmt::format("kbs: {}/metrics answered HTTP {}", url_, metrics->status)
                           : fmt::format("kbs: {}: {}", url_, core::Message(metrics.status()));
    return;
  }
  reachable_ = true;
  body_ = std::move(metrics->body);
}

void KbsGate::Judge(Window& w, const AttestationCounts& counts, std::string_view what,
                    core::TimePoint now) {
  w.generation = generation_;
  // A counter that went down means the KBS restarted: start a new window.
  if (!w.samples.empty() &&
      (counts.ok < w.samples.back().counts.ok || counts.failed < w.samples.back().counts.failed)) {
    w.samples.clear();
  }
  w.samples.push_back({now, counts});
  while (w.samples.size() > 1 && w.samples[1].t <= now - config_.window) w.samples.pop_front();
  const AttestationCounts& first = w.samples.front().counts;
  double ok = counts.ok - first.ok;
  double failed = counts.failed - first.failed;
  w.why.clear();
  w.state = GateState::kOpen;
  if (ok + failed >= config_.min_attestations &&
      failed / (ok + failed) > config_.max_failure_ratio) {
    w.why =
        fmt::format("kbs: {} of {} {} attestations failed in the last {}s (limit {:.0f}%)", failed,
                    ok + failed, what, config_.window.count(), config_.max_failure_ratio * 100);
    w.state = GateState::kAttestationFailing;
  }
}

GateState KbsGate::Check(std::string_view tee, core::TimePoint now, std::string* why) {
  std::lock_guard<std::mutex> lock(mu_);
  Fetch(now);
  auto closed = [&](std::string text) {
    if (why) *why = std::move(text);
    return GateState::kKbsUnreachable;
  };
  if (!reachable_) return closed(unreachable_why_);
  Window& w = windows_["tee:" + std::string(tee)];
  if (w.generation != generation_) {
    auto counts = ParseKbsAttestations(body_, tee, config_.metric_names);
    if (!counts.ok()) {
      return closed(fmt::format("kbs: {}/metrics: {}", url_, core::Message(counts.status())));
    }
    Judge(w, *counts, fmt::format("`{}`", tee), now);
  }
  if (why) *why = w.why;
  return w.state;
}

GateState KbsGate::CheckDevices(std::string_view arch, std::string_view tee, core::TimePoint now,
                                std::string* why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Fetch(now);
    if (!reachable_) {
      if (why) *why = unreachable_why_;
      return GateState::kKbsUnreachable;
    }
    auto counts = ParseKbsDeviceAttestations(body_, arch);
    if (!counts.ok()) {
      if (why) *why = fmt::format("kbs: {}/metrics: {}", url_, core::Message(counts.status()));
      return GateState::kKbsUnreachable;
    }
    if (counts->has_value()) {
      Window& w = windows_["device:" + std::string(arch)];
      if (w.generation != generation_) {
        Judge(w, **counts, arch.empty() ? "GPU" : fmt::format("`{}` GPU", arch), now);
      }
      if (why) *why = w.why;
      return w.state;
    }
  }
  // No device counters: the CPU TEE's attestations carry the devices' outcome.
  return Check(tee, now, why);
}

}  // namespace ccburst::scaler
