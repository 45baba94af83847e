// ccburst-testgen: test-only companion of the end-to-end tests and the load benchmark. It makes
// the TDX and SEV-SNP test hierarchies usable from scripts: `hierarchy` creates one and writes
// what a KBS needs to trust it (TDX root CA + offline collateral, SNP ARK bundle); `attest` runs
// one agent flow (auth, attest, resource) with evidence generated from a saved hierarchy and bound
// to the live session (`--tee az-tdx-vtpm|az-snp-vtpm` over a TDX/SNP hierarchy: Azure vTPM
// evidence, optionally with init-data sent and bound through PCR8; with `--tpm` the real Azure vTPM
// attester over a software TPM instead). For the swtpm tests, `hcl-report` builds the HCL report a
// vTPM NV index holds around a given attestation key, and `imds-stub` stands in for Azure's IMDS.
// `tsm-stub` plays the kernel's configfs-tsm for `ccburst-agent` (agent/testing/tsm_stub.h: the
// one TDX/SNP hardware stand-in). `attest --gpus N --gpu-ca DIR` adds NVIDIA
// device evidence. Never part of a production build: apps/ does not link it.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "agent/kbs_client.h"
#include "agent/testing/generated_attesters.h"
#include "agent/testing/tsm_stub.h"
#include "agent/vtpm/azure_attester.h"
#include "agent/vtpm/testing/imds_stub.h"
#include "collateral/dcap/sources.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/file.h"
#include "crypto/key.h"
#include "crypto/random.h"
#include "evidence/azure/testing/generator.h"
#include "evidence/nvidia/testing/generator.h"
#include "evidence/nvidia/verifier.h"
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
  if (tee == "nvidia") {
    if (!issued_text.empty() || !next_update_text.empty()) {
      return Usage("--collateral-issued/--collateral-next-update are for tdx");
    }
    auto ca = evidence::nvidia::testing::TestDeviceCa::Create(not_before, not_after);
    status = ca->Save(out);
    // And a test RIM CA with one signed RIM holding the generated GPUs' golden measurements.
    auto rim_ca = evidence::nvidia::testing::TestRimCa::Create(not_before, not_after);
    if (status.ok()) status = rim_ca->Save(out);
    if (status.ok()) status = WriteFile(out + "/rim.xml", rim_ca->MakeRim({}));
  } else if (tee == "tdx") {
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
  std::string chip_id;          // snp: hex or "random"
  std::string init_data_file;   // sent with /attest
  std::string pcr8_digest_hex;  // Azure: the init-data digest PCR8 binds
  std::string tpm;              // Azure: the real vTPM attester over this TCTI
  std::string imds_url;         // with --tpm
  std::string mrtd_hex;         // tdx: the quote's MRTD
  std::string gpu_ca_dir;       // NVIDIA test device CA (`hierarchy --tee nvidia`)
  int gpus = 0;                 // GPUs whose evidence goes in additional_evidence
  int bad_gpu = -1;             // this GPU signs a nonce of another session
  int unmeasured_gpu = -1;      // this GPU runs firmware no RIM lists (other measurements)
  std::string token_out;        // write the attestation token here (even when the resource fails)
};

// `additional_evidence` with `a.gpus` NVIDIA GPUs from the test device CA, each report bound to
// the device binding (GPU `a.bad_gpu`: to another session's nonce).
absl::StatusOr<agent::KbsClient::DeviceEvidenceFn> GpuEvidence(const AttestArgs& a) {
  namespace nvt = evidence::nvidia::testing;
  CCB_ASSIGN_OR_RETURN(std::shared_ptr<nvt::TestDeviceCa> ca, nvt::TestDeviceCa::Load(a.gpu_ca_dir),
                       "--gpu-ca");
  auto gpus = std::make_shared<std::vector<nvt::TestGpu>>();
  for (int i = 0; i < a.gpus; ++i) gpus->push_back(ca->MakeGpu());
  int bad = a.bad_gpu;
  int unmeasured = a.unmeasured_gpu;
  return [gpus, bad, unmeasured](std::string_view binding) -> absl::StatusOr<core::json::object> {
    core::json::array list;
    for (size_t i = 0; i < gpus->size(); ++i) {
      nvt::ReportSpec spec;
      spec.nonce = static_cast<int>(i) == bad ? crypto::RandomBytes(32)
                                              : evidence::nvidia::ExpectedNonce(binding);
      spec.other_firmware = static_cast<int>(i) == unmeasured;
      std::string report = nvt::TestDeviceCa::MakeReport((*gpus)[i], spec);
      list.push_back(
          nvt::TestDeviceCa::EvidenceEntry((*gpus)[i], report, fmt::format("gpu-{}", i)));
    }
    return core::json::object{
        {"nvidia", core::json::object{{"device_evidence_list", std::move(list)}}}};
  };
}

int Attest(const AttestArgs& a) {
  const std::string& url = a.url;
  const std::string& cert_file = a.cert_file;
  const std::string& path = a.path;
  agent::testing::GeneratedAttesterOptions attester_options;
  attester_options.wrong_report_data = a.wrong_report_data;
  if (!a.chip_id.empty()) {
    if (a.tee != "snp") return Usage("--chip-id is for snp");
    if (a.chip_id == "random") {
      attester_options.chip_id = crypto::RandomBytes(64);
    } else {
      auto chip = core::HexDecode(a.chip_id);
      if (!chip.ok() || chip->size() != 64) return Usage("--chip-id is not 64 bytes of hex");
      attester_options.chip_id = *std::move(chip);
    }
  }
  if (!a.pcr8_digest_hex.empty()) {
    if (!a.tee.starts_with("az-")) return Usage("--pcr8-init-data-digest is for az-* TEEs");
    auto digest = core::HexDecode(a.pcr8_digest_hex);
    if (!digest.ok()) return Usage("--pcr8-init-data-digest is not hex");
    attester_options.init_data_digest = *digest;
  }
  if (!a.mrtd_hex.empty()) {
    if (a.tee != "tdx") return Usage("--mrtd is for tdx");
    auto mrtd = core::HexDecode(a.mrtd_hex);
    if (!mrtd.ok() || mrtd->size() != 48) return Usage("--mrtd is not 48 bytes of hex");
    attester_options.mr_td = *mrtd;
  }
  std::optional<std::string> init_data;
  if (!a.init_data_file.empty()) {
    auto text = core::ReadFile(a.init_data_file);
    if (!text.ok()) return Usage(core::Message(text.status()));
    init_data = *std::move(text);
  }
  std::unique_ptr<agent::Attester> attester;
  if (!a.tpm.empty()) {
    if (!a.tee.starts_with("az-")) return Usage("--tpm is for az-* TEEs");
    if (a.wrong_report_data || !a.pcr8_digest_hex.empty()) {
      return Usage("--wrong-report-data and --pcr8-init-data-digest are for generated evidence");
    }
    agent::vtpm::AzureVtpmOptions options;
    options.tcti = a.tpm;
    if (!a.imds_url.empty()) options.imds_url = a.imds_url;
    auto made = agent::vtpm::NewAzureVtpmAttester(a.tee, std::move(options));
    if (!made.ok()) return Usage(core::Message(made.status()));
    attester = *std::move(made);
  } else {
    if (a.hierarchy_dir.empty()) return Usage("attest: --hierarchy or --tpm is required");
    auto attesters = agent::testing::LoadGeneratedAttesters(a.tee, a.hierarchy_dir);
    if (!attesters.ok()) return Usage(core::Message(attesters.status()));
    attester = (*attesters)(std::move(attester_options));
  }
  net::HttpClientOptions options;
  options.base_url = url;
  if (!cert_file.empty()) options.ca_certificate_file = cert_file;
  auto http = net::HttpClient::Create(std::move(options));
  if (!http.ok()) return Usage(core::Message(http.status()));
  agent::KbsClient client(*std::move(http), std::move(attester),
                          crypto::PrivateKey::GenerateEcP256(), "ECDH-ES+A256KW");
  if (a.gpus > 0) {
    if (a.gpu_ca_dir.empty()) return Usage("--gpus needs --gpu-ca DIR");
    auto fn = GpuEvidence(a);
    if (!fn.ok()) return Usage(core::Message(fn.status()));
    client.set_device_evidence(*std::move(fn));
  }
  auto token = client.Attest(init_data);
  if (token.ok() && !a.token_out.empty()) {
    if (absl::Status s = WriteFile(a.token_out, *token); !s.ok()) return Usage(core::Message(s));
  }
  absl::StatusOr<std::string> secret =
      token.ok() ? client.GetResource(path) : absl::StatusOr<std::string>(token.status());
  if (!secret.ok()) {
    std::cerr << "ccburst-testgen: " << core::Message(secret.status()) << "\n";
    return 1;
  }
  std::cout << *secret << std::flush;
  return 0;
}

// The HCL report (NV index 0x01400001 contents) of a VM whose vTPM attestation key is in
// `ak_pub_file` (PEM), around a hardware report from the hierarchy in `dir`.
// `mrtd_hex` (az-tdx-vtpm) is the TD's MRTD in the TDREPORT, which IMDS then quotes.
int HclReport(const std::string& tee, const std::string& dir, const std::string& ak_pub_file,
              const std::string& mrtd_hex, const std::string& out) {
  auto ak = crypto::PublicKey::LoadPemFile(ak_pub_file);
  if (!ak.ok()) return Usage("--ak-pub: " + core::Message(ak.status()));
  evidence::azure::testing::AzSpec spec;
  spec.version = 1;
  spec.include_ek = false;  // a software TPM's NV index holds at most 2048 bytes
  if (!mrtd_hex.empty()) {
    if (tee != "az-tdx-vtpm") return Usage("--mrtd is for az-tdx-vtpm");
    auto mrtd = core::HexDecode(mrtd_hex);
    if (!mrtd.ok() || mrtd->size() != 48) return Usage("--mrtd is not 48 bytes of hex");
    spec.td.mr_td = *mrtd;
  }
  absl::StatusOr<evidence::azure::testing::HclBundle> bundle;
  if (tee == "az-tdx-vtpm") {
    auto h = evidence::tdx::testing::TdxTestHierarchy::Load(dir);
    if (!h.ok()) return Usage(core::Message(h.status()));
    bundle = evidence::azure::testing::TdxHclBundle(**h, *ak, spec);
  } else {
    auto h = evidence::snp::testing::TestHierarchy::Load(dir);
    if (!h.ok()) return Usage(core::Message(h.status()));
    bundle = evidence::azure::testing::SnpHclBundle(**h, *ak, spec);
  }
  absl::Status status = bundle.ok() ? WriteFile(out, bundle->hcl_report) : bundle.status();
  if (!status.ok()) {
    std::cerr << "ccburst-testgen: " << core::Message(status) << "\n";
    return 1;
  }
  return 0;
}

// Serves the IMDS stand-in until SIGTERM or SIGINT.
int ImdsStub(const std::string& tdx_dir, const std::string& snp_dir, const std::string& listen) {
  std::unique_ptr<evidence::tdx::testing::TdxTestHierarchy> tdx;
  std::unique_ptr<evidence::snp::testing::TestHierarchy> snp;
  if (!tdx_dir.empty()) {
    auto h = evidence::tdx::testing::TdxTestHierarchy::Load(tdx_dir);
    if (!h.ok()) return Usage(core::Message(h.status()));
    tdx = *std::move(h);
  }
  if (!snp_dir.empty()) {
    auto h = evidence::snp::testing::TestHierarchy::Load(snp_dir);
    if (!h.ok()) return Usage(core::Message(h.status()));
    snp = *std::move(h);
  }
  // Blocked before the server's threads start, so that only sigwait() sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto server = agent::vtpm::testing::StartImdsStub(tdx.get(), snp.get(), listen);
  if (!server.ok()) return Usage(core::Message(server.status()));
  std::cout << "ccburst-testgen: imds stub listening on http://127.0.0.1:" << (*server)->ports()[0]
            << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  (*server)->Stop();
  return 0;
}

struct StubArgs {
  std::string root, tee, hierarchy_dir, config_hex, measurement_hex;
};

// Runs until SIGINT/SIGTERM; SIGUSR1 toggles race mode. Prints one line when ready.
int TsmStubMain(const StubArgs& a) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto options =
      agent::testing::HierarchyStubOptions(a.tee, a.hierarchy_dir, a.config_hex, a.measurement_hex);
  if (!options.ok()) {
    std::cerr << "ccburst-testgen: " << core::Message(options.status()) << "\n";
    return 1;
  }
  options->root = a.root;
  auto stub = agent::testing::TsmStub::Start(std::move(*options));
  if (!stub.ok()) {
    std::cerr << "ccburst-testgen: " << core::Message(stub.status()) << "\n";
    return 1;
  }
  std::cout << "tsm-stub: serving " << a.root << std::endl;
  while (true) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != SIGUSR1) break;
    (*stub)->set_race(!(*stub)->race());
    std::cerr << "tsm-stub: race mode " << ((*stub)->race() ? "on" : "off") << std::endl;
  }
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
  hierarchy->add_option("--tee", h.tee, "tdx, snp or nvidia (a test GPU device CA)")
      ->required()
      ->check(CLI::IsMember({"tdx", "snp", "nvidia"}));
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
  attest->add_option("--hierarchy", a.hierarchy_dir,
                     "directory written by `hierarchy` (generated evidence; not with --tpm)");
  attest->add_option("--path", a.path, "resource path, e.g. default/key/model")->required();
  attest->add_flag("--wrong-report-data", a.wrong_report_data,
                   "bind the evidence to other report data (the KBS must refuse it)");
  attest->add_option("--chip-id", a.chip_id,
                     "snp: this CHIP_ID (hex, or `random`) and no certificates in the evidence, so "
                     "the KBS fetches a VCEK");
  attest->add_option("--init-data", a.init_data_file, "init-data TOML sent with /attest");
  attest->add_option("--gpu-ca", a.gpu_ca_dir, "directory written by `hierarchy --tee nvidia`");
  attest->add_option("--gpus", a.gpus, "NVIDIA GPUs to send in additional_evidence")
      ->check(CLI::Range(0, 200));
  attest->add_option("--bad-gpu", a.bad_gpu,
                     "this GPU (0-based) signs another session's nonce (the KBS must refuse)");
  attest->add_option("--token-out", a.token_out,
                     "write the attestation token (EAR JWT) to this file");
  attest->add_option("--unmeasured-gpu", a.unmeasured_gpu,
                     "this GPU (0-based) reports measurements no generated RIM lists");
  attest->add_option("--pcr8-init-data-digest", a.pcr8_digest_hex,
                     "az-*: PCR8 binds this init-data digest (hex); PCR8 is zero otherwise");
  attest->add_option("--mrtd", a.mrtd_hex, "tdx: the quote's MRTD (96 hex digits)");

  attest->add_option("--tpm", a.tpm,
                     "az-*: collect the evidence with the vTPM attester over this TCTI "
                     "(e.g. swtpm:host=127.0.0.1,port=N) instead of generating it");
  attest->add_option("--imds-url", a.imds_url, "with --tpm: the IMDS base URL (an imds-stub)");

  std::string hcl_tee, hcl_hierarchy, ak_pub, hcl_mrtd, hcl_out;
  auto* hcl = app.add_subcommand(
      "hcl-report", "the HCL report (vTPM NV 0x01400001) around an attestation key, for swtpm");
  hcl->add_option("--tee", hcl_tee, "az-tdx-vtpm (TDX hierarchy) or az-snp-vtpm (SNP hierarchy)")
      ->required()
      ->check(CLI::IsMember({"az-tdx-vtpm", "az-snp-vtpm"}));
  hcl->add_option("--hierarchy", hcl_hierarchy, "directory written by `hierarchy`")->required();
  hcl->add_option("--ak-pub", ak_pub, "PEM public key of the TPM's attestation key")->required();
  hcl->add_option("--mrtd", hcl_mrtd,
                  "az-tdx-vtpm: the TD's MRTD in the TDREPORT (96 hex digits; default the "
                  "generator's)");
  hcl->add_option("--out", hcl_out, "file to write")->required();

  std::string imds_tdx, imds_snp, imds_listen = "127.0.0.1:0";
  auto* imds = app.add_subcommand(
      "imds-stub", "serve Azure IMDS's /acc/tdquote and THIM certification from test hierarchies");
  imds->add_option("--tdx-hierarchy", imds_tdx, "TDX hierarchy (TD quotes)");
  imds->add_option("--snp-hierarchy", imds_snp, "SNP hierarchy (VCEK)");
  imds->add_option("--listen", imds_listen, "address (default 127.0.0.1:0)");
  StubArgs stub;
  auto* tsm = app.add_subcommand(
      "tsm-stub", "play the kernel's configfs-tsm on a directory (SIGUSR1 toggles a race)");
  tsm->add_option("--root", stub.root, "directory the agent uses as its configfs-tsm root")
      ->required();
  tsm->add_option("--tee", stub.tee, "tdx or snp")
      ->required()
      ->check(CLI::IsMember({"tdx", "snp"}));
  tsm->add_option("--hierarchy", stub.hierarchy_dir, "directory written by `hierarchy`")
      ->required();
  tsm->add_option("--mrconfigid,--host-data", stub.config_hex,
                  "hex MRCONFIGID (tdx) or HOST_DATA (snp): the init-data digest");
  tsm->add_option("--measurement,--mrtd", stub.measurement_hex,
                  "hex MEASUREMENT (snp) or MRTD (tdx); default: the generator's");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsage;
  }
  if (hierarchy->parsed()) return Hierarchy(h);
  if (hcl->parsed()) return HclReport(hcl_tee, hcl_hierarchy, ak_pub, hcl_mrtd, hcl_out);
  if (imds->parsed()) return ImdsStub(imds_tdx, imds_snp, imds_listen);
  if (tsm->parsed()) return TsmStubMain(stub);
  return Attest(a);
}
