#include "apps/verify_azure.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "collateral/dcap/sources.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/key.h"
#include "evidence/azure/verifier.h"
#include "evidence/dcap/certificates.h"

namespace ccburst::apps {
namespace {

namespace json = boost::json;
namespace az = evidence::azure;

int Usage(const std::string& message) {
  std::cerr << "ccburst verify: " << message << "\n";
  return 2;
}

// The checks a successful verification passed, in the verifier's order (evidence/azure/verifier.h).
json::array ChecksPassed(const az::AzVerification& v, az::Platform platform) {
  json::array checks{
      fmt::format("evidence: format v{} parsed", v.evidence_version),
      "tpm quote: TPMS_ATTEST parsed fully (magic, type, lengths)",
      "tpm quote: RSASSA-PKCS1-v1_5/SHA-256 signature by HCLAkPub",
      "tpm quote: pcrDigest == SHA-256(PCR0 || ... || PCR23)",
      "tpm quote: extraData == the expected report data",
      "hcl report: hardware REPORT_DATA[0:32] == SHA-256(variable data)",
  };
  if (platform == az::Platform::kSnp) {
    checks.emplace_back(
        fmt::format("snp report: VCEK chain to the pinned AMD ARK ({}), signature, TCB vs VCEK, "
                    "VMPL 0",
                    evidence::snp::GenerationName(v.product)));
  } else {
    checks.emplace_back(fmt::format(
        "td quote: DCAP verified (collateral, QE identity, TCB status {})", v.tcb_status));
    checks.emplace_back("td quote: REPORT_DATA[0:32] == SHA-256(variable data)");
  }
  if (v.evidence_version >= 2)
    checks.emplace_back("hcl report: user-data starts with the report data");
  return checks;
}

absl::StatusOr<std::vector<std::string>> LoadCrls(const std::string& dir) {
  std::vector<std::string> crls;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".crl") continue;
    CCB_ASSIGN_OR_RETURN(auto crl, core::ReadFile(entry.path().string()));
    crls.push_back(std::move(crl));
  }
  if (ec) return absl::NotFoundError(fmt::format("--certs `{}`: {}", dir, ec.message()));
  return crls;
}

}  // namespace

int VerifyAzure(const AzureVerifyArgs& args) {
  az::Platform platform = args.tee == "az-snp-vtpm" ? az::Platform::kSnp : az::Platform::kTdx;
  core::TimePoint at = core::SystemClock::Get().Now();
  if (!args.at.empty()) {
    auto parsed = core::ParseRfc3339(args.at);
    if (!parsed.ok()) return Usage("--at: " + core::Message(parsed.status()));
    at = *parsed;
  }
  if (args.nonce_hex.empty() == args.report_data_hex.empty()) {
    return Usage(fmt::format("{} needs exactly one of --nonce HEX or --report-data HEX", args.tee));
  }
  auto expected = core::HexDecode(args.nonce_hex.empty() ? args.report_data_hex : args.nonce_hex);
  if (!expected.ok() || expected->empty()) {
    return Usage(args.nonce_hex.empty() ? "--report-data is not hex" : "--nonce is not hex");
  }
  if (platform == az::Platform::kTdx) {
    if (args.collateral_dir.empty()) return Usage("--collateral DIR is required for az-tdx-vtpm");
    if (!args.certs_dir.empty()) return Usage("--certs is for az-snp-vtpm");
  } else {
    if (!args.collateral_dir.empty()) return Usage("--collateral is for az-tdx-vtpm");
    if (!args.trusted_root.empty()) return Usage("--trusted-root is for az-tdx-vtpm");
  }

  json::object result{{"verified", false},
                      {"tee", args.tee},
                      {"evidence_version", nullptr},
                      {"tcb_status", nullptr},
                      {"advisory_ids", json::array{}},
                      {"checks", json::array{}},
                      {"claims", nullptr},
                      {"error", nullptr}};
  auto verify = [&]() -> absl::StatusOr<az::AzVerification> {
    CCB_ASSIGN_OR_RETURN(std::string text, core::ReadFile(args.evidence_file));
    CCB_ASSIGN_OR_RETURN(json::value value, core::ParseJson(text), "evidence `{}`",
                         args.evidence_file);
    auto parsed = az::ParseEvidence(value, platform);
    if (!parsed.ok()) return core::Annotate(parsed.status(), args.tee);
    result["evidence_version"] = parsed->version;
    evidence::ExpectedBinding binding;
    binding.report_data_digest = *expected;
    if (platform == az::Platform::kSnp) {
      evidence::snp::SnpVerifierOptions options;
      if (!args.certs_dir.empty()) {
        CCB_ASSIGN_OR_RETURN(options.crls, LoadCrls(args.certs_dir));
      }
      CCB_ASSIGN_OR_RETURN(auto v, az::AzSnpVtpmVerifier::Create(std::move(options)));
      return v->VerifyEvidence(*parsed, &binding, at);
    }
    auto source =
        std::make_shared<collateral::dcap::OfflineDirCollateralSource>(args.collateral_dir);
    std::optional<evidence::dcap::TrustAnchor> anchor;
    if (!args.trusted_root.empty()) {
      CCB_ASSIGN_OR_RETURN(auto key, crypto::PublicKey::LoadPemFile(args.trusted_root),
                           "--trusted-root");
      anchor.emplace(std::move(key));
    }
    CCB_ASSIGN_OR_RETURN(auto v, az::AzTdxVtpmVerifier::Create({source, std::move(anchor)}));
    return v->VerifyEvidence(*parsed, &binding, at);
  };
  auto v = verify();
  if (v.ok()) {
    result["verified"] = true;
    if (platform == az::Platform::kTdx) {
      result["tcb_status"] = v->tcb_status;
      json::array advisories;
      for (const auto& id : v->advisory_ids) advisories.emplace_back(id);
      result["advisory_ids"] = std::move(advisories);
    }
    result["checks"] = ChecksPassed(*v, platform);
    result["claims"] = std::move(v->claims);
  } else {
    result["error"] = core::Message(v.status());
  }

  if (args.json) {
    std::cout << core::Serialize(result) << "\n";
  } else if (v.ok()) {
    std::cout << args.tee << ": verified at " << core::FormatRfc3339(at) << " (evidence v"
              << result["evidence_version"].to_number<int>() << ")";
    if (platform == az::Platform::kTdx) {
      std::cout << ", tcb_status " << v->tcb_status;
      if (!v->advisory_ids.empty()) {
        std::cout << ", advisories " << core::Serialize(result["advisory_ids"]);
      }
    }
    std::cout << "\nchecks passed:\n";
    for (const auto& c : result["checks"].as_array()) {
      std::cout << "  " << std::string_view(c.as_string()) << "\n";
    }
    std::cout << "claims: " << core::Serialize(result["claims"]) << "\n";
  } else {
    std::cout << args.tee << ": NOT verified: " << core::Message(v.status()) << "\n";
  }
  return v.ok() ? 0 : 1;
}

}  // namespace ccburst::apps
