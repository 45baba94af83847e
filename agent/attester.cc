#include "agent/attester.h"

#include <fmt/format.h>

#include "core/encoding.h"

namespace ccburst::agent {
namespace {

class SampleAttester final : public Attester {
 public:
  explicit SampleAttester(std::string svn) : svn_(std::move(svn)) {}
  std::string tee() const override { return "sample"; }
  absl::StatusOr<core::json::value> Evidence(std::string_view report_data) const override {
    core::json::object e;
    e["svn"] = svn_;
    e["report_data"] = core::Base64Encode(report_data);
    return core::json::value(std::move(e));
  }
  // The sample TEE measures nothing; init-data is bound by the KBS only.
  absl::Status CheckInitData(std::string_view) const override { return absl::OkStatus(); }

 private:
  std::string svn_;
};

}  // namespace

absl::Status Attester::CheckInitData(std::string_view) const {
  return absl::UnimplementedError(fmt::format("{}: this attester cannot check init-data", tee()));
}

std::unique_ptr<Attester> NewSampleAttester(std::string svn) {
  return std::make_unique<SampleAttester>(std::move(svn));
}

}  // namespace ccburst::agent
