#include "evidence/sample/sample.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "core/json.h"

namespace ccburst::evidence {
namespace {

namespace json = boost::json;

// Fixed claims of the reference sample verifier; real TEEs derive these from signed evidence.
constexpr std::string_view kLaunchDigest = "abcde";
constexpr int64_t kPlatformMajor = 1;
constexpr int64_t kPlatformMinor = 4;

class SampleVerifier final : public Verifier {
 public:
  std::string_view tee() const override { return "sample"; }

  absl::StatusOr<json::object> Verify(const json::value& evidence, const ExpectedBinding& binding,
                                      core::TimePoint) const override {
    const json::object* obj = evidence.if_object();
    if (obj == nullptr) return absl::InvalidArgumentError("sample: evidence is not a JSON object");
    CCB_ASSIGN_OR_RETURN(std::string_view svn, StringField(*obj, "svn"));
    CCB_ASSIGN_OR_RETURN(std::string_view report_data, StringField(*obj, "report_data"));

    auto decoded = core::Base64Decode(report_data, core::Base64Alphabet::kStandard,
                                      core::Base64Padding::kRequired);
    if (!decoded.ok()) {
      return absl::InvalidArgumentError(fmt::format(
          "sample: report_data is not standard base64: {}", core::Message(decoded.status())));
    }
    if (*decoded != binding.report_data_digest) {
      return absl::PermissionDeniedError("sample: report_data does not match the session binding");
    }

    json::object claims;
    claims["svn"] = svn;
    claims["report_data"] = report_data;
    claims["launch_digest"] = kLaunchDigest;
    claims["platform_version"] = json::object{{"major", kPlatformMajor}, {"minor", kPlatformMinor}};
    claims["debug"] = false;
    if (binding.init_data_digest) {
      claims["init_data"] = core::Base64Encode(*binding.init_data_digest);
    }
    return claims;
  }

 private:
  static absl::StatusOr<std::string_view> StringField(const json::object& obj,
                                                      std::string_view key) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      return absl::InvalidArgumentError(fmt::format("sample: missing field `{}`", key));
    }
    const json::string* s = it->value().if_string();
    if (s == nullptr) {
      return absl::InvalidArgumentError(fmt::format("sample: `{}` must be a string", key));
    }
    return std::string_view(*s);
  }
};

}  // namespace

std::unique_ptr<Verifier> NewSampleVerifier() { return std::make_unique<SampleVerifier>(); }

}  // namespace ccburst::evidence
