#include "attestation/reference_values.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "core/json.h"

namespace ccburst::attestation {
namespace {

namespace json = boost::json;

constexpr std::string_view kMessageVersion = "0.1.0";
// Version of the stored record, so that the format can evolve.
constexpr std::string_view kRecordVersion = "0.1.0";

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(fmt::format("reference-value: {}", message));
}

// `t` plus `months` calendar months, the day clamped to the end of a shorter month (29 February
// plus 12 months is 28 February).
core::TimePoint AddMonths(core::TimePoint t, std::chrono::months months) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd(day);
  year_month_day shifted = ymd + months;
  if (!shifted.ok()) shifted = year_month_day_last(shifted.year(), shifted.month() / last);
  return sys_days(shifted) + (t - day);
}

// A stored record: {"version","name","expiration":<unix seconds>,"value"}.
struct Record {
  core::TimePoint expiration;
  json::value value;
};

absl::StatusOr<Record> ParseRecord(std::string_view id, std::string_view text) {
  auto parsed = core::ParseJson(text);
  const json::object* obj = parsed.ok() ? parsed->if_object() : nullptr;
  const json::value* value = obj ? obj->if_contains("value") : nullptr;
  const json::value* exp = obj ? obj->if_contains("expiration") : nullptr;
  if (value == nullptr || exp == nullptr || !exp->is_int64()) {
    return absl::InternalError(
        fmt::format("reference-value: stored record of `{}` is corrupt", id));
  }
  return Record{core::FromUnixSeconds(exp->as_int64()), *value};
}

}  // namespace

ReferenceValueStore::ReferenceValueStore(store::KeyValueStore& kv, const core::Clock& clock,
                                         std::chrono::months validity)
    : kv_(kv), clock_(clock), validity_(validity) {}

absl::Status ReferenceValueStore::Register(std::string_view body_json) {
  auto body = core::ParseJson(body_json);
  if (!body.ok()) return Invalid(core::Message(body.status()));
  const json::object* msg = body->if_object();
  if (msg == nullptr) return Invalid("body is not a JSON object");

  if (const json::value* v = msg->if_contains("version")) {
    if (!v->is_string()) return Invalid("`version` must be a string");
    if (v->as_string() != kMessageVersion) {
      return Invalid(fmt::format("unsupported version `{}` (expected `{}`)",
                                 std::string_view(v->as_string()), kMessageVersion));
    }
  }
  const json::value* type = msg->if_contains("type");
  if (type == nullptr) return Invalid("missing field `type`");
  if (!type->is_string()) return Invalid("`type` must be a string");
  if (type->as_string() != "sample") {
    return Invalid(fmt::format("unsupported type `{}`", std::string_view(type->as_string())));
  }
  const json::value* payload = msg->if_contains("payload");
  if (payload == nullptr) return Invalid("missing field `payload`");
  if (!payload->is_string()) return Invalid("`payload` must be a string");

  auto decoded =
      core::Base64Decode(std::string_view(payload->as_string()), core::Base64Alphabet::kStandard,
                         core::Base64Padding::kOptional);
  if (!decoded.ok()) {
    return Invalid(
        fmt::format("`payload` is not standard base64: {}", core::Message(decoded.status())));
  }
  auto provenance = core::ParseJson(*decoded);
  if (!provenance.ok()) {
    return Invalid(fmt::format("`payload` is not JSON: {}", core::Message(provenance.status())));
  }
  const json::object* values = provenance->if_object();
  if (values == nullptr) return Invalid("`payload` is not a JSON object");
  for (const auto& [name, value] : *values) {
    if (name.empty()) return Invalid("`payload` has an empty reference value name");
  }

  core::TimePoint expiration = AddMonths(clock_.Now(), validity_);
  for (const auto& [name, value] : *values) {
    CCB_RETURN_IF_ERROR(Put(std::string_view(name), value, expiration));
  }
  return absl::OkStatus();
}

absl::Status ReferenceValueStore::Put(std::string_view id, const json::value& value,
                                      core::TimePoint expiration) {
  json::object record{{"version", kRecordVersion},
                      {"name", id},
                      {"expiration", core::ToUnixSeconds(expiration)},
                      {"value", value}};
  return kv_.Put(kReferenceValueNamespace, id, core::Serialize(record));
}

absl::StatusOr<std::optional<json::value>> ReferenceValueStore::Get(std::string_view id) {
  CCB_ASSIGN_OR_RETURN(std::optional<std::string> text, kv_.Get(kReferenceValueNamespace, id));
  if (!text) return std::optional<json::value>();
  CCB_ASSIGN_OR_RETURN(Record record, ParseRecord(id, *text));
  if (clock_.Now() > record.expiration) return std::optional<json::value>();
  return std::optional<json::value>(std::move(record.value));
}

absl::StatusOr<std::vector<std::string>> ReferenceValueStore::List() {
  CCB_ASSIGN_OR_RETURN(auto entries, kv_.List(kReferenceValueNamespace));
  core::TimePoint now = clock_.Now();
  std::vector<std::string> ids;
  for (auto& [id, text] : entries) {
    CCB_ASSIGN_OR_RETURN(Record record, ParseRecord(id, text));
    if (now <= record.expiration) ids.push_back(std::move(id));
  }
  return ids;
}

absl::StatusOr<bool> ReferenceValueStore::Delete(std::string_view id) {
  return kv_.Delete(kReferenceValueNamespace, id);
}

}  // namespace ccburst::attestation
