#include "apps/verify_nvidia.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iostream>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "evidence/nvidia/verifier.h"

namespace ccburst::apps {
namespace {

namespace json = boost::json;
namespace nv = evidence::nvidia;

int Usage(const std::string& message) {
  std::cerr << "ccburst verify: " << message << "\n";
  return 2;
}

// A report file holds the raw bytes or their hex text (the reference attester's form).
std::string ReportBytes(const std::string& file) {
  std::string trimmed = file;
  trimmed.erase(std::remove_if(trimmed.begin(), trimmed.end(),
                               [](unsigned char c) { return std::isspace(c) != 0; }),
                trimmed.end());
  if (!trimmed.empty() && std::all_of(trimmed.begin(), trimmed.end(),
                                      [](unsigned char c) { return std::isxdigit(c) != 0; })) {
    if (auto bytes = core::HexDecode(trimmed); bytes.ok()) return *bytes;
  }
  return file;
}

json::array ChecksPassed(bool with_report) {
  json::array checks;
  if (with_report) {
    checks.emplace_back(
        "report: SPDM 1.1 GET_MEASUREMENTS + MEASUREMENTS parsed (DMTF blocks, opaque data)");
    checks.emplace_back("report: ECDSA P-384/SHA-384 signature by the leaf certificate");
  }
  checks.emplace_back("chain: at least leaf and root, root is a trusted NVIDIA root");
  checks.emplace_back("chain: leaf FWID extension present and equal to the expected FWID");
  checks.emplace_back("chain: every certificate issued by the next, issuers are CAs");
  checks.emplace_back("chain: every certificate valid at the verification time");
  checks.emplace_back("chain: leaf is a device end entity");
  if (with_report) checks.emplace_back("report: request nonce == the expected nonce");
  return checks;
}

// Compares the golden measurements {SPDM index: hex or [hex]} with a report's measurement claims;
// the indices that differ (or that the report lacks).
json::array MismatchedIndices(const json::object& golden, const json::object& measured) {
  json::array out;
  for (const auto& [index, want] : golden) {
    const json::value* got = measured.if_contains(index);
    bool ok = got != nullptr && got->is_string() &&
              (want.is_string()
                   ? *got == want
                   : want.is_array() && std::find(want.as_array().begin(), want.as_array().end(),
                                                  *got) != want.as_array().end());
    if (!ok) out.emplace_back(index);
  }
  return out;
}

}  // namespace

absl::StatusOr<RimReference> VerifyRimFiles(const std::vector<std::string>& rim_files,
                                            const std::string& rim_root, core::TimePoint at,
                                            nv::RimCheck* failed) {
  *failed = nv::RimCheck::kNone;
  if (rim_root.empty()) {
    return absl::InvalidArgumentError(
        "--rim needs --rim-root PEM (NVIDIA's RIM signing root, or a test RIM CA)");
  }
  CCB_ASSIGN_OR_RETURN(std::string anchor, core::ReadFile(rim_root));
  nv::RimVerifierOptions options;
  options.trust_anchors.push_back(std::move(anchor));
  CCB_ASSIGN_OR_RETURN(auto verifier, nv::RimVerifier::Create(std::move(options)));
  RimReference out;
  for (const std::string& file : rim_files) {
    CCB_ASSIGN_OR_RETURN(std::string xml, core::ReadFile(file));
    CCB_ASSIGN_OR_RETURN(nv::Rim rim, verifier->Verify(xml, at, failed), "{}", file);
    absl::Status merged =
        nv::MergeReferenceMeasurements(out.measurements, nv::RimReferenceMeasurements(rim));
    if (!merged.ok()) {
      *failed = nv::RimCheck::kMeasurements;
      return core::Annotate(merged, file);
    }
    out.rims.push_back(json::object{{"file", file},
                                    {"tag_id", rim.tag_id},
                                    {"name", rim.name},
                                    {"version", rim.version},
                                    {"signer", rim.chain.front()->subject_cn()}});
  }
  return out;
}

int VerifyNvidia(const NvidiaVerifyArgs& args) {
  core::TimePoint at = core::SystemClock::Get().Now();
  if (!args.at.empty()) {
    auto parsed = core::ParseRfc3339(args.at);
    if (!parsed.ok()) return Usage("--at: " + core::Message(parsed.status()));
    at = *parsed;
  }
  // RIMs first: a usage error (unreadable file or root) exits 2 before any verification.
  std::optional<absl::StatusOr<RimReference>> rims;
  nv::RimCheck rim_failed = nv::RimCheck::kNone;
  if (!args.rim_files.empty()) {
    rims = VerifyRimFiles(args.rim_files, args.rim_root, at, &rim_failed);
    if (!rims->ok() && rim_failed == nv::RimCheck::kNone) {
      return Usage(core::Message(rims->status()));
    }
  } else if (!args.rim_root.empty()) {
    return Usage("--rim-root needs --rim FILE");
  }
  json::object rim_result;
  if (rims) {
    rim_result = {{"result", "valid"},
                  {"failed_check", nullptr},
                  {"rims", json::array{}},
                  {"reference_measurements", nullptr},
                  {"mismatched_indices", nullptr},
                  {"error", nullptr}};
    if (rims->ok()) {
      rim_result["rims"] = (*rims)->rims;
      rim_result["reference_measurements"] = (*rims)->measurements;
    } else {
      rim_result["result"] = fmt::format("invalid-rim-{}", nv::RimCheckName(rim_failed));
      rim_result["failed_check"] = nv::RimCheckName(rim_failed);
      rim_result["error"] = core::Message(rims->status());
    }
  }
  if (args.cert_chain.empty() && rims) {
    bool ok = rims->ok();
    json::object result{
        {"verified", ok}, {"tee", "nvidia"}, {"result", rim_result["result"]}, {"rim", rim_result}};
    if (args.json) {
      std::cout << core::Serialize(result) << "\n";
    } else if (ok) {
      std::cout << "nvidia rim: verified at " << core::FormatRfc3339(at) << " ("
                << args.rim_files.size() << " RIM(s))\n";
      std::cout << "rims: " << core::Serialize(rim_result["rims"]) << "\n";
      std::cout << "nvidia_measurements: " << core::Serialize(rim_result["reference_measurements"])
                << "\n";
    } else {
      std::cout << "nvidia rim: NOT verified ("
                << std::string_view(rim_result["result"].as_string())
                << "): " << core::Message(rims->status()) << "\n";
    }
    return ok ? 0 : 1;
  }
  if (args.cert_chain.empty())
    return Usage("--cert-chain PEM (or --rim FILE) is required for nvidia");
  bool with_report = !args.evidence_file.empty();
  std::string nonce, fwid;
  if (with_report) {
    if (!args.fwid_hex.empty()) return Usage("--fwid is for a chain without --evidence");
    auto n = core::HexDecode(args.nonce_hex);
    if (args.nonce_hex.empty() || !n.ok()) return Usage("nvidia needs --nonce HEX with --evidence");
    nonce = nv::ExpectedNonce(*n);
  } else {
    if (!args.nonce_hex.empty()) return Usage("--nonce needs --evidence");
    auto f = core::HexDecode(args.fwid_hex);
    if (!f.ok()) return Usage("--fwid is not hex");
    fwid = *f;
  }
  auto chain = core::ReadFile(args.cert_chain);
  if (!chain.ok()) return Usage(core::Message(chain.status()));
  nv::NvidiaVerifierOptions options;
  if (!args.trusted_root.empty()) {
    auto root = core::ReadFile(args.trusted_root);
    if (!root.ok()) return Usage(core::Message(root.status()));
    options.trust_anchors.push_back(*root);
  }
  auto verifier = nv::NvidiaVerifier::Create(options);
  if (!verifier.ok()) return Usage(core::Message(verifier.status()));

  json::object result{{"verified", false},       {"tee", "nvidia"},   {"result", nullptr},
                      {"failed_check", nullptr}, {"report", nullptr}, {"measurements", nullptr},
                      {"opaque_data", nullptr},  {"claims", nullptr}, {"checks", json::array{}},
                      {"error", nullptr}};
  nv::Check failed = nv::Check::kNone;
  absl::Status status;
  if (with_report) {
    auto file = core::ReadFile(args.evidence_file);
    if (!file.ok()) return Usage(core::Message(file.status()));
    nv::DeviceEvidence ev{"HOPPER", std::nullopt, ReportBytes(*file), *chain};
    auto v = (*verifier)->VerifyDevice(ev, &nonce, at, &failed);
    status = v.status();
    if (v.ok()) {
      const nv::Report& r = v->report;
      result["report"] = json::object{
          {"spdm_version", "1.1"},
          {"size", r.bytes.size()},
          {"nonce", core::HexEncode(r.request_nonce)},
          {"responder_nonce", core::HexEncode(r.responder_nonce)},
          {"measurement_blocks", r.measurements.size()},
          {"signature_offset", r.signature_offset},
          {"trailing_bytes", r.trailing_bytes},
          {"leaf", v->chain.certs.front()->subject_cn()},
          {"fwid", core::HexEncode(v->chain.fwid)},
      };
      result["measurements"] = v->claims.at("measurements");
      result["opaque_data"] = v->claims.at("config");
      result["claims"] = std::move(v->claims);
    }
  } else {
    std::optional<std::string_view> expected;
    if (!fwid.empty()) expected = fwid;
    auto v = (*verifier)->VerifyChain(*chain, expected, at, &failed);
    status = v.status();
    if (v.ok()) {
      result["report"] = json::object{{"leaf", v->certs.front()->subject_cn()},
                                      {"fwid", core::HexEncode(v->fwid)},
                                      {"chain_length", v->certs.size()}};
    }
  }
  bool ok = status.ok();
  result["verified"] = ok;
  result["result"] = ok ? std::string("valid") : fmt::format("invalid-{}", nv::CheckName(failed));
  if (ok) {
    result["checks"] = ChecksPassed(with_report);
  } else {
    result["failed_check"] = nv::CheckName(failed);
    result["error"] = core::Message(status);
  }
  // The device verified: its measurements against the RIMs' golden ones.
  if (rims && ok && !rims->ok()) {
    ok = false;
    status = rims->status();
    result["result"] = rim_result["result"];
    result["failed_check"] = fmt::format("rim-{}", nv::RimCheckName(rim_failed));
    result["error"] = rim_result["error"];
  } else if (rims && ok && with_report) {
    json::array mismatched =
        MismatchedIndices((*rims)->measurements, result["measurements"].as_object());
    if (!mismatched.empty()) {
      ok = false;
      status = absl::PermissionDeniedError(fmt::format(
          "nvidia rim: report measurements at SPDM indices {} do not match the RIMs' golden "
          "values",
          core::Serialize(mismatched)));
      result["result"] = "invalid-rim-measurements";
      result["failed_check"] = "rim-measurements";
      result["error"] = core::Message(status);
      rim_result["result"] = "invalid-rim-measurements";
      rim_result["error"] = core::Message(status);
    } else {
      result["checks"].as_array().emplace_back(
          fmt::format("rim: {} golden measurement(s) from {} signed RIM(s) match the report",
                      (*rims)->measurements.size(), args.rim_files.size()));
    }
    rim_result["mismatched_indices"] = std::move(mismatched);
  }
  if (rims) result["rim"] = rim_result;
  result["verified"] = ok;

  if (args.json) {
    std::cout << core::Serialize(result) << "\n";
  } else if (ok) {
    std::cout << "nvidia: verified at " << core::FormatRfc3339(at) << " ("
              << (with_report ? "report and chain" : "chain only") << ")\n";
    std::cout << "report: " << core::Serialize(result["report"]) << "\n";
    std::cout << "checks passed:\n";
    for (const auto& c : result["checks"].as_array()) {
      std::cout << "  " << std::string_view(c.as_string()) << "\n";
    }
    if (with_report) {
      std::cout << "measurements: " << core::Serialize(result["measurements"]) << "\n";
      std::cout << "opaque data: " << core::Serialize(result["opaque_data"]) << "\n";
      std::cout << "claims: " << core::Serialize(result["claims"]) << "\n";
    }
  } else {
    std::cout << "nvidia: NOT verified (" << std::string_view(result["result"].as_string())
              << "): " << core::Message(status) << "\n";
  }
  return ok ? 0 : 1;
}

}  // namespace ccburst::apps
