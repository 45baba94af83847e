#include "apps/verify_command.h"

#include <fmt/format.h>

#include <iostream>

#include "apps/verify_azure.h"
#include "apps/verify_nvidia.h"
#include "collateral/dcap/sources.h"
#include "collateral/snp/sources.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/key.h"
#include "evidence/snp/certificates.h"
#include "evidence/tdx/verifier.h"

namespace ccburst::apps {
namespace {

namespace json = boost::json;
namespace dcap = evidence::dcap;
namespace snp = evidence::snp;
namespace tdx = evidence::tdx;

struct VerifyFlags {
  std::string tee, evidence_file, collateral_dir, certs_dir, trusted_root, at_text;
  std::string nonce, report_data;  // az-*: the TPM quote's expected nonce; nvidia: SPDM nonce
  std::string cert_chain, fwid;    // nvidia: device certificate chain, expected FWID
  std::vector<std::string> rims;   // nvidia: RIM files
  std::string rim_root;            // nvidia: RIM trust anchor
  bool json = false;
  int required_vmpl = 0;
};

int Usage(const std::string& message) {
  std::cerr << "ccburst verify: " << message << "\n";
  return 2;
}

int RunVerify(const VerifyFlags& f) {
  if (f.tee == "nvidia") {
    if (!f.collateral_dir.empty() || !f.certs_dir.empty() || !f.report_data.empty()) {
      return Usage("nvidia takes --evidence, --cert-chain, --nonce (or --fwid), --at");
    }
    return VerifyNvidia({f.evidence_file, f.cert_chain, f.nonce, f.fwid, f.trusted_root, f.at_text,
                         f.json, f.rims, f.rim_root});
  }
  if (!f.cert_chain.empty() || !f.fwid.empty() || !f.rims.empty() || !f.rim_root.empty()) {
    return Usage("--cert-chain/--fwid/--rim/--rim-root are for nvidia");
  }
  if (f.evidence_file.empty()) return Usage("--evidence is required");
  if (f.tee.starts_with("az-")) {
    return VerifyAzure({f.tee, f.evidence_file, f.collateral_dir, f.certs_dir, f.trusted_root,
                        f.at_text, f.nonce, f.report_data, f.json});
  }
  if (!(f.nonce.empty() && f.report_data.empty())) {
    return Usage("--nonce/--report-data are for az-tdx-vtpm and az-snp-vtpm");
  }
  core::TimePoint at = core::SystemClock::Get().Now();
  if (!f.at_text.empty()) {
    auto parsed = core::ParseRfc3339(f.at_text);
    if (!parsed.ok()) return Usage("--at: " + std::string(parsed.status().message()));
    at = *parsed;
  }
  json::object result;
  if (f.tee == "tdx") {
    if (f.collateral_dir.empty()) return Usage("--collateral DIR is required for tdx");
    if (!f.certs_dir.empty()) return Usage("--certs is for snp");
    std::optional<std::string> anchor;
    if (!f.trusted_root.empty()) anchor = f.trusted_root;
    result = VerifyTdxFiles(f.evidence_file, f.collateral_dir, at, anchor);
  } else {
    if (!f.collateral_dir.empty()) return Usage("--collateral is for tdx (snp takes --certs)");
    if (!f.trusted_root.empty()) return Usage("--trusted-root is for tdx");
    auto bytes = core::ReadFile(f.evidence_file);
    if (!bytes.ok()) return Usage(std::string(bytes.status().message()));
    std::optional<std::string> dir;
    if (!f.certs_dir.empty()) dir = f.certs_dir;
    snp::SnpVerifierOptions options;
    options.required_vmpl = static_cast<uint32_t>(f.required_vmpl);
    result = VerifySnpFiles(*bytes, dir, at, options);
  }
  const json::value* verified = result.if_contains("verified");
  bool ok = verified && verified->is_bool() && verified->get_bool();
  if (f.json) {
    std::cout << core::Serialize(result) << "\n";
  } else if (ok) {
    std::cout << f.tee << ": verified at " << core::FormatRfc3339(at);
    if (const auto* s = result.if_contains("tcb_status"); s && s->is_string()) {
      std::cout << ", tcb_status " << s->get_string().c_str();
    }
    if (const auto* a = result.if_contains("advisory_ids");
        a && a->is_array() && !a->get_array().empty()) {
      std::cout << ", advisories " << core::Serialize(*a);
    }
    std::cout << "\n";
  } else {
    const auto* e = result.if_contains("error");
    std::cout << f.tee << ": NOT verified: "
              << (e && e->is_string() ? std::string(e->get_string()) : "unknown error") << "\n";
  }
  return ok ? 0 : 1;
}

void SetUpVerify(CLI::App* verify, VerifyFlags* f) {
  verify->add_option("--tee", f->tee, "tdx, snp, az-tdx-vtpm, az-snp-vtpm or nvidia")
      ->required()
      ->check(CLI::IsMember({"tdx", "snp", "az-tdx-vtpm", "az-snp-vtpm", "nvidia"}));
  verify->add_option("--evidence", f->evidence_file,
                     "raw quote/report or the evidence JSON the KBS receives (nvidia: the SPDM "
                     "report, raw or hex; without it, --cert-chain alone is checked)");
  verify->add_option("--cert-chain", f->cert_chain, "nvidia: the device certificate chain (PEM)");
  verify->add_option("--fwid", f->fwid, "nvidia, chain only: the FWID the leaf must carry, hex");
  verify->add_option(
      "--rim", f->rims,
      "nvidia: a signed RIM (driver or VBIOS SWID tag) whose golden measurements the "
      "report must match; repeatable; alone: verify the RIMs only");
  verify->add_option(
      "--rim-root", f->rim_root,
      "nvidia: the RIM trust anchor (PEM): NVIDIA's RIM signing root or a test RIM CA");
  verify->add_option("--collateral", f->collateral_dir,
                     "tdx: DCAP collateral directory (tcb_info.json, qe_identity.json, CRLs, ...)");
  verify->add_option("--certs", f->certs_dir, "snp: directory of VCEK/VLEK/ASK/ARK (DER or PEM)");
  verify->add_option(
      "--trusted-root", f->trusted_root,
      "tdx, nvidia: trust this root (PEM) instead of the vendor's; for test hierarchies only");
  verify->add_option("--vmpl", f->required_vmpl, "snp: the VMPL the report must come from")
      ->capture_default_str()
      ->check(CLI::Range(0, 3));
  verify->add_option("--at", f->at_text, "verification time, RFC 3339 (default: now)");
  verify->add_option("--nonce", f->nonce,
                     "az-*: the TPM quote's expected nonce; nvidia: the SPDM nonce; hex");
  verify->add_option("--report-data", f->report_data, "az-*: same as --nonce");
  verify->add_flag("--json", f->json, "print {verified, tcb_status, advisory_ids, claims, error}");
}

}  // namespace

json::object VerifyTdxEvidence(std::string_view evidence,
                               std::shared_ptr<const dcap::CollateralSource> source,
                               const dcap::TrustAnchor& anchor, core::TimePoint at) {
  json::object out{{"verified", false},
                   {"tcb_status", nullptr},
                   {"advisory_ids", json::array{}},
                   {"claims", nullptr}};
  auto fail = [&](const absl::Status& s) {
    out["error"] = core::Message(s);
    return out;
  };
  auto ev = tdx::ParseEvidenceBytes(evidence);
  if (!ev.ok()) return fail(ev.status());
  auto verifier = tdx::TdxVerifier::Create({std::move(source), anchor});
  if (!verifier.ok()) return fail(verifier.status());
  auto r = (*verifier)->VerifyEvidence(*ev, nullptr, at);
  if (!r.ok()) return fail(r.status());
  out["tcb_status"] = r->verdict.tcb_status;
  json::array advisories;
  for (const auto& a : r->verdict.advisory_ids) advisories.emplace_back(a);
  out["advisory_ids"] = std::move(advisories);
  out["claims"] = std::move(r->claims);
  if (r->verdict.tcb_status == "Revoked") {
    out["error"] = "tdx: tcb status is Revoked";
    return out;
  }
  out["verified"] = true;
  return out;
}

json::object VerifyTdxFiles(const std::string& evidence_file, const std::string& collateral_dir,
                            core::TimePoint at, const std::optional<std::string>& anchor_pem) {
  auto fail = [](std::string error) {
    return json::object{{"verified", false},
                        {"tcb_status", nullptr},
                        {"advisory_ids", json::array{}},
                        {"claims", nullptr},
                        {"error", std::move(error)}};
  };
  auto evidence = core::ReadFile(evidence_file);
  if (!evidence.ok()) return fail(core::Message(evidence.status()));
  std::optional<dcap::TrustAnchor> anchor;
  if (anchor_pem) {
    auto key = crypto::PublicKey::LoadPemFile(*anchor_pem);
    if (!key.ok()) return fail(core::Message(key.status()));
    anchor.emplace(*std::move(key));
  }
  auto source = std::make_shared<collateral::dcap::OfflineDirCollateralSource>(collateral_dir);
  return VerifyTdxEvidence(*evidence, source,
                           anchor ? *anchor : dcap::TrustAnchor::IntelSgxRootCa(), at);
}

json::object VerifySnpEvidence(std::string_view evidence_bytes,
                               const std::vector<std::string>& extra_certs, core::TimePoint at,
                               snp::SnpVerifierOptions options) {
  auto fail = [](const absl::Status& st) {
    return json::object{{"verified", false}, {"claims", nullptr}, {"error", core::Message(st)}};
  };
  auto ev = snp::ParseEvidenceBytes(evidence_bytes);
  if (!ev.ok()) return fail(ev.status());
  // CRL files are checked like SnpVerifierOptions::crls; the rest are certificates.
  std::vector<std::string> certs;
  for (const std::string& blob : extra_certs) {
    if (snp::ParseCrl(blob).ok()) {
      options.crls.push_back(blob);
    } else {
      certs.push_back(blob);
    }
  }
  for (const std::string& blob : certs) {
    auto ders = snp::SplitCertificates(blob);
    if (!ders.ok()) return fail(ders.status());
    for (std::string& der : *ders) {
      auto c = snp::ParseCertificate(der, "certificate file");
      if (!c.ok()) return fail(c.status());
      const std::string& cn = c->subject_cn();
      if (cn.rfind("ARK-", 0) == 0) {
        ev->certs.push_back({snp::CertKind::kArk, std::move(der), true});
      } else if (cn.rfind("SEV-", 0) == 0 && cn != "SEV-VCEK" && cn != "SEV-VLEK") {
        ev->certs.push_back({snp::CertKind::kAsk, std::move(der), true});
      }
    }
  }
  if (options.cert_source == nullptr && !certs.empty()) {
    auto src = snp::NewStaticCertSource(certs);
    if (!src.ok()) return fail(src.status());
    options.cert_source = *src;
  }
  auto verifier = snp::SnpVerifier::Create(std::move(options));
  if (!verifier.ok()) return fail(verifier.status());
  auto v = (*verifier)->VerifyEvidence(*ev, nullptr, at);
  if (!v.ok()) return fail(v.status());
  return json::object{{"verified", true},
                      {"tee", "snp"},
                      {"report_version", v->report.version},
                      {"processor_generation", snp::GenerationName(v->product)},
                      {"signing_key", snp::SigningKeyName(v->signing_key)},
                      {"claims", std::move(v->claims)},
                      {"error", nullptr}};
}

json::object VerifySnpFiles(std::string_view evidence_bytes,
                            const std::optional<std::string>& certs_dir, core::TimePoint at,
                            snp::SnpVerifierOptions options) {
  std::vector<std::string> certs;
  if (certs_dir) {
    auto loaded = collateral::snp::LoadCertificateDir(*certs_dir);
    if (!loaded.ok()) {
      return json::object{
          {"verified", false},
          {"claims", nullptr},
          {"error", fmt::format("snp: certificate directory: {}", core::Message(loaded.status()))}};
    }
    certs = std::move(*loaded);
  }
  return VerifySnpEvidence(evidence_bytes, certs, at, std::move(options));
}

std::vector<Subcommand> VerifyCommands() {
  auto flags = std::make_shared<VerifyFlags>();
  return {{"verify", "verify TDX or SNP evidence offline at a given time (exit 0 verified, 1 not)",
           [flags](CLI::App* cmd) { SetUpVerify(cmd, flags.get()); },
           [flags] { return RunVerify(*flags); }}};
}

}  // namespace ccburst::apps
