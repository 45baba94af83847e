#include "agent/testing/generated_attesters.h"

#include <fmt/format.h>

#include "core/encoding.h"
#include "core/json.h"

namespace ccburst::agent::testing {
namespace {

namespace json = core::json;

std::string ReportData(std::string_view digest, const GeneratedAttesterOptions& options) {
  return options.wrong_report_data ? std::string(48, 'x') : std::string(digest);
}

class GeneratedTdxAttester final : public Attester {
 public:
  GeneratedTdxAttester(std::shared_ptr<const evidence::tdx::testing::TdxTestHierarchy> hierarchy,
                       GeneratedAttesterOptions options)
      : hierarchy_(std::move(hierarchy)), options_(options) {}

  std::string tee() const override { return "tdx"; }

  absl::StatusOr<json::value> Evidence(std::string_view report_data) const override {
    evidence::tdx::testing::QuoteSpec spec;
    spec.report_data = ReportData(report_data, options_);
    CCB_ASSIGN_OR_RETURN(std::string quote, hierarchy_->IssueQuote(spec));
    return json::object{{"quote", core::Base64Encode(quote)}, {"cc_eventlog", nullptr}};
  }

 private:
  std::shared_ptr<const evidence::tdx::testing::TdxTestHierarchy> hierarchy_;
  GeneratedAttesterOptions options_;
};

class GeneratedSnpAttester final : public Attester {
 public:
  GeneratedSnpAttester(std::shared_ptr<const evidence::snp::testing::TestHierarchy> hierarchy,
                       GeneratedAttesterOptions options)
      : hierarchy_(std::move(hierarchy)), options_(options) {}

  std::string tee() const override { return "snp"; }

  absl::StatusOr<json::value> Evidence(std::string_view report_data) const override {
    evidence::snp::testing::ReportSpec spec;
    spec.report_data = ReportData(report_data, options_);
    return core::ParseJson(hierarchy_->TsmEvidenceJson(spec));
  }

 private:
  std::shared_ptr<const evidence::snp::testing::TestHierarchy> hierarchy_;
  GeneratedAttesterOptions options_;
};

}  // namespace

std::unique_ptr<Attester> NewGeneratedTdxAttester(
    const evidence::tdx::testing::TdxTestHierarchy& hierarchy, GeneratedAttesterOptions options) {
  // Not owned: an aliasing pointer with an empty control block.
  return std::make_unique<GeneratedTdxAttester>(
      std::shared_ptr<const evidence::tdx::testing::TdxTestHierarchy>(std::shared_ptr<void>(),
                                                                      &hierarchy),
      options);
}

std::unique_ptr<Attester> NewGeneratedSnpAttester(
    const evidence::snp::testing::TestHierarchy& hierarchy, GeneratedAttesterOptions options) {
  return std::make_unique<GeneratedSnpAttester>(
      std::shared_ptr<const evidence::snp::testing::TestHierarchy>(std::shared_ptr<void>(),
                                                                   &hierarchy),
      options);
}

absl::StatusOr<GeneratedAttesterFactory> LoadGeneratedAttesters(std::string_view tee,
                                                                const std::string& dir) {
  if (tee == "tdx") {
    CCB_ASSIGN_OR_RETURN(std::shared_ptr<const evidence::tdx::testing::TdxTestHierarchy> h,
                         evidence::tdx::testing::TdxTestHierarchy::Load(dir));
    return GeneratedAttesterFactory([h](GeneratedAttesterOptions options) {
      return std::unique_ptr<Attester>(std::make_unique<GeneratedTdxAttester>(h, options));
    });
  }
  if (tee == "snp") {
    CCB_ASSIGN_OR_RETURN(std::shared_ptr<const evidence::snp::testing::TestHierarchy> h,
                         evidence::snp::testing::TestHierarchy::Load(dir));
    return GeneratedAttesterFactory([h](GeneratedAttesterOptions options) {
      return std::unique_ptr<Attester>(std::make_unique<GeneratedSnpAttester>(h, options));
    });
  }
  return absl::InvalidArgumentError(
      fmt::format("generated attesters: unsupported tee `{}` (tdx or snp)", tee));
}

}  // namespace ccburst::agent::testing
