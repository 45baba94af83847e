// ccburst-testgen: test-only companion of the end-to-end tests and the load benchmark. It makes
// the TDX and SEV-SNP test hierarchies usable from scripts: `hierarchy` creates one and writes
// what a KBS needs to trust it (TDX root CA + offline collateral, SNP ARK bundle); `attest` runs
// one agent flow (auth, attest, resource) with evidence generated from a saved hierarchy and bound
// to the live session (`--tee az-tdx-vtpm|az-snp-vtpm` over a TDX/SNP hierarchy: Azure vTPM
// evidence, optionally with init-data sent and bound through PCR8). Never part of a production
// build: apps/ does not link it.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "agent/kbs_client.h"
#include "agent/testing/generated_attesters.h"
#include "collateral/dcap/sources.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/file.h"
#include "crypto/key.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/tdx/testing/quote_generator.h"
#include "net/http_client.h"

namespace {

using namespace ccburst;

constexpr int kUsage = 2;

int Usage(const std::string& message) {
  std::cerr << "ccburst-testgen: " << message << "\n";
  return kUsage;
}

std::string DerToPem(std::string_view der) {
  std::string b64 = core::Base64Encode(der);
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE-----\n";
}

using core::WriteFile;

// Every regular file under `dir`, sorted, one per line.
void PrintFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) std::cout << f << "\n";
}

struct HierarchyArgs {
  std::string tee, out, issued, next_update;
  // Certificate validity: [now - 1 day, now + valid_days], unless pinned with RFC 3339 times.
  int valid_days = 365;
  std::string not_before, not_after;
};

int Hierarchy(const HierarchyArgs& args) {
  const std::string& tee = args.tee;
  const std::string& out = args.out;
  const std::string& issued_text = args.issued;
  const std::string& next_update_text = args.next_update;
  core::TimePoint now = core::SystemClock::Get().Now();
  core::TimePoint issued = now - std::chrono::hours(24);
  core::TimePoint next_update = now + std::chrono::hours(24 * 30);
  core::TimePoint not_before = now - std::chrono::hours(24);
  core::TimePoint not_after = now + std::chrono::hours(24) * args.valid_days;
  if (!args.not_before.empty()) {
    auto t = core::ParseRfc3339(args.not_before);
    if (!t.ok()) return Usage("--not-before: " + core::Message(t.status()));
    not_before = *t;
  }
  if (!args.not_after.empty()) {
    auto t = core::ParseRfc3339(args.not_after);
    if (!t.ok()) return Usage("--not-after: " + core::Message(t.status()));
    not_after = *t;
  }
  if (not_after <= not_before) return Usage("certificate validity ends before it starts");
  if (!issued_text.empty()) {
    auto t = core::ParseRfc3339(issued_text);
    if (!t.ok()) return Usage("--collateral-issued: " + core::Message(t.status()));
    issued = *t;
  }
  if (!next_update_text.empty()) {
    auto t = core::ParseRfc3339(next_update_text);
    if (!t.ok()) return Usage("--collateral-next-update: " + core::Message(t.status()));
    next_update = *t;
  }
  if (tee == "snp" && (!issued_text.empty() || !next_update_text.empty())) {
    return Usage("--collateral-issued/--collateral-next-update are for tdx");
  }
  absl::Status status;
  if (tee == "tdx") {
    evidence::tdx::testing::HierarchyOptions options;
    options.not_before = not_before;
    options.not_after = not_after;
    auto h = evidence::tdx::testing::TdxTestHierarchy::Create(options);
    status = h->Save(out);
    if (status.ok()) status = WriteFile(out + "/root.pem", h->root_pem());
    if (status.ok()) {
      evidence::tdx::testing::CollateralSpec spec;
      spec.issue_date = issued;
      spec.next_update = next_update;
      auto collateral = h->MakeCollateral(spec);
      status = collateral.ok()
                   ? collateral::dcap::WriteCollateralDir(*collateral, out + "/collateral")
                   : collateral.status();
    }
  } else {
    evidence::snp::testing::HierarchyOptions options;
    options.not_before = not_before;
    options.not_after = not_after;
    auto h = evidence::snp::testing::TestHierarchy::Create(options);
    status = h->Save(out);
    if (status.ok()) {
      status = WriteFile(out + "/ark.pem",
                         DerToPem(h->ark_der()) + DerToPem(h->ask_der()) + DerToPem(h->asvk_der()));
    }
  }
  if (!status.ok()) {
    std::cerr << "ccburst-testgen: " << core::Message(status) << "\n";
    return 1;
  }
  PrintFiles(out);
  return 0;
}

struct AttestArgs {
  std::string url, cert_file, tee, hierarchy_dir, path;
  bool wrong_report_data = false;
  std::string init_data_file;   // sent with /attest
  std::string pcr8_digest_hex;  // Azure: the init-data digest PCR8 binds
};

int Attest(const AttestArgs& a) {
  const std::string& url = a.url;
  const std::string& cert_file = a.cert_file;
  const std::string& path = a.path;
  agent::testing::GeneratedAttesterOptions attester_options;
  attester_options.wrong_report_data = a.wrong_report_data;
  if (!a.pcr8_digest_hex.empty()) {
    if (!a.tee.starts_with("az-")) return Usage("--pcr8-init-data-digest is for az-* TEEs");
    auto digest = core::HexDecode(a.pcr8_digest_hex);
    if (!digest.ok()) return Usage("--pcr8-init-data-digest is not hex");
    attester_options.init_data_digest = *digest;
  }
  std::optional<std::string> init_data;
  if (!a.init_data_file.empty()) {
    auto text = core::ReadFile(a.init_data_file);
    if (!text.ok()) return Usage(core::Message(text.status()));
    init_data = *std::move(text);
  }
  auto attesters = agent::testing::LoadGeneratedAttesters(a.tee, a.hierarchy_dir);
  if (!attesters.ok()) return Usage(core::Message(attesters.status()));
  net::HttpClientOptions options;
  options.base_url = url;
  if (!cert_file.empty()) options.ca_certificate_file = cert_file;
  auto http = net::HttpClient::Create(std::move(options));
  if (!http.ok()) return Usage(core::Message(http.status()));
  agent::KbsClient client(*std::move(http), (*attesters)(std::move(attester_options)),
                          crypto::PrivateKey::GenerateEcP256(), "ECDH-ES+A256KW");
  auto token = client.Attest(init_data);
  absl::StatusOr<std::string> secret =
      token.ok() ? client.GetResource(path) : absl::StatusOr<std::string>(token.status());
  if (!secret.ok()) {
    std::cerr << "ccburst-testgen: " << core::Message(secret.status()) << "\n";
    return 1;
  }
  std::cout << *secret << std::flush;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "ccburst-testgen: TDX/SNP test hierarchies and generated-evidence flows (TDX, SNP, Azure; "
      "tests only)"};
  app.require_subcommand(1);

  HierarchyArgs h;
  auto* hierarchy = app.add_subcommand(
      "hierarchy", "create a test hierarchy and the files a KBS needs to trust it");
  hierarchy->add_option("--tee", h.tee, "tdx or snp")
      ->required()
      ->check(CLI::IsMember({"tdx", "snp"}));
  hierarchy->add_option("--out", h.out, "directory to write")->required();
  hierarchy->add_option("--collateral-issued", h.issued,
                        "TDX collateral issueDate (RFC 3339; default now - 1 day)");
  hierarchy->add_option("--collateral-next-update", h.next_update,
                        "TDX collateral nextUpdate (RFC 3339; default now + 30 days)");
  hierarchy
      ->add_option("--valid-days", h.valid_days,
                   "certificates are valid from now - 1 day to now + this many days")
      ->check(CLI::Range(1, 36500));
  hierarchy->add_option("--not-before", h.not_before,
                        "pin the certificates' notBefore (RFC 3339) instead of now - 1 day");
  hierarchy->add_option("--not-after", h.not_after,
                        "pin the certificates' notAfter (RFC 3339) instead of now + --valid-days");

  AttestArgs a;
  auto* attest = app.add_subcommand(
      "attest", "auth + attest + get-resource with generated evidence; prints the resource");
  attest->add_option("--url", a.url, "KBS base URL")->required();
  attest->add_option("--cert-file", a.cert_file, "PEM CA certificate for an HTTPS KBS");
  attest
      ->add_option("--tee", a.tee,
                   "tdx, snp, az-tdx-vtpm (TDX hierarchy) or az-snp-vtpm (SNP hierarchy)")
      ->required()
      ->check(CLI::IsMember({"tdx", "snp", "az-tdx-vtpm", "az-snp-vtpm"}));
  attest->add_option("--hierarchy", a.hierarchy_dir, "directory written by `hierarchy`")
      ->required();
  attest->add_option("--path", a.path, "resource path, e.g. default/key/model")->required();
  attest->add_flag("--wrong-report-data", a.wrong_report_data,
                   "bind the evidence to other report data (the KBS must refuse it)");
  attest->add_option("--init-data", a.init_data_file, "init-data TOML sent with /attest");
  attest->add_option("--pcr8-init-data-digest", a.pcr8_digest_hex,
                     "az-*: PCR8 binds this init-data digest (hex); PCR8 is zero otherwise");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsage;
  }
  if (hierarchy->parsed()) return Hierarchy(h);
  return Attest(a);
}
