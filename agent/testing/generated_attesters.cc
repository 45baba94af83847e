#include "agent/testing/generated_attesters.h"

#include <fmt/format.h>

#include <type_traits>

#include "core/encoding.h"
#include "core/json.h"
#include "evidence/azure/testing/generator.h"

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
    if (options_.mr_td) spec.mr_td = *options_.mr_td;
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
    spec.chip_id = options_.chip_id;
    return core::ParseJson(hierarchy_->TsmEvidenceJson(spec, !options_.chip_id.has_value()));
  }

 private:
  std::shared_ptr<const evidence::snp::testing::TestHierarchy> hierarchy_;
  GeneratedAttesterOptions options_;
};

// Azure evidence (v2) around a TDX or SNP test hierarchy; `H` picks the platform.
template <typename H>
class GeneratedAzAttester final : public Attester {
 public:
  GeneratedAzAttester(std::shared_ptr<const H> hierarchy,
                      std::shared_ptr<const evidence::azure::testing::AzAttester> az,
                      GeneratedAttesterOptions options)
      : hierarchy_(std::move(hierarchy)), az_(std::move(az)), options_(std::move(options)) {}

  std::string tee() const override {
    return std::is_same_v<H, evidence::tdx::testing::TdxTestHierarchy> ? "az-tdx-vtpm"
                                                                       : "az-snp-vtpm";
  }

  absl::StatusOr<json::value> Evidence(std::string_view report_data) const override {
    evidence::azure::testing::AzSpec spec;
    spec.version = 2;
    spec.nonce = ReportData(report_data, options_);
    spec.init_data_digest = options_.init_data_digest;
    absl::StatusOr<std::string> text;
    if constexpr (std::is_same_v<H, evidence::tdx::testing::TdxTestHierarchy>) {
      text = az_->TdxEvidenceJson(*hierarchy_, spec);
    } else {
      text = az_->SnpEvidenceJson(*hierarchy_, spec);
    }
    if (!text.ok()) return text.status();
    return core::ParseJson(*text);
  }

 private:
  std::shared_ptr<const H> hierarchy_;
  std::shared_ptr<const evidence::azure::testing::AzAttester> az_;
  GeneratedAttesterOptions options_;
};

template <typename H>
std::shared_ptr<const H> Unowned(const H& h) {
  // Not owned: an aliasing pointer with an empty control block.
  return std::shared_ptr<const H>(std::shared_ptr<void>(), &h);
}

}  // namespace

std::unique_ptr<Attester> NewGeneratedAzTdxAttester(
    const evidence::tdx::testing::TdxTestHierarchy& hierarchy, GeneratedAttesterOptions options) {
  return std::make_unique<GeneratedAzAttester<evidence::tdx::testing::TdxTestHierarchy>>(
      Unowned(hierarchy), std::make_shared<evidence::azure::testing::AzAttester>(),
      std::move(options));
}

std::unique_ptr<Attester> NewGeneratedAzSnpAttester(
    const evidence::snp::testing::TestHierarchy& hierarchy, GeneratedAttesterOptions options) {
  return std::make_unique<GeneratedAzAttester<evidence::snp::testing::TestHierarchy>>(
      Unowned(hierarchy), std::make_shared<evidence::azure::testing::AzAttester>(),
      std::move(options));
}

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
  if (tee == "az-tdx-vtpm" || tee == "az-snp-vtpm") {
    auto az = std::make_shared<const evidence::azure::testing::AzAttester>();
    if (tee == "az-tdx-vtpm") {
      using H = evidence::tdx::testing::TdxTestHierarchy;
      CCB_ASSIGN_OR_RETURN(std::shared_ptr<const H> h, H::Load(dir));
      return GeneratedAttesterFactory([h, az](GeneratedAttesterOptions options) {
        return std::unique_ptr<Attester>(
            std::make_unique<GeneratedAzAttester<H>>(h, az, std::move(options)));
      });
    }
    using H = evidence::snp::testing::TestHierarchy;
    CCB_ASSIGN_OR_RETURN(std::shared_ptr<const H> h, H::Load(dir));
    return GeneratedAttesterFactory([h, az](GeneratedAttesterOptions options) {
      return std::unique_ptr<Attester>(
          std::make_unique<GeneratedAzAttester<H>>(h, az, std::move(options)));
    });
  }
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
  return absl::InvalidArgumentError(fmt::format(
      "generated attesters: unsupported tee `{}` (tdx, snp, az-tdx-vtpm or az-snp-vtpm)", tee));
}

}  // namespace ccburst::agent::testing
