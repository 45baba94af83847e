// ccburst-agent: the guest side of ccburst (attestation agent + confidential data hub). Flags,
// config and signal handling only; the logic is in agent/ (guest_agent.h, data_hub.h).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "agent/encrypted_file.h"
#include "agent/guest_agent.h"
#include "agent/vtpm/tpm.h"
#include "core/file.h"
#include "net/http_server.h"

namespace {

using ccburst::agent::AgentSettings;
namespace agent = ccburst::agent;
namespace core = ccburst::core;

int Fail(const absl::Status& s) {
  std::cerr << "ccburst-agent: " << core::Message(s) << "\n";
  return 1;
}

// Secrets go to a 0600 file by atomic rename, or to stdout.
int Emit(const std::string& output, const std::string& data) {
  if (output.empty()) {
    std::cout << data;
    std::cout.flush();
    return 0;
  }
  absl::Status s = core::WriteSecretFile(output, data);
  return s.ok() ? 0 : Fail(s);
}

int Serve(agent::Agent& a, const std::string& listen) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // server threads inherit the mask
  ccburst::net::HttpServerOptions options;
  options.sockets = {listen};
  options.threads = 2;
  options.max_body_bytes = 256 * 1024;
  auto server = ccburst::net::HttpServer::Start(options, agent::NewApiHandler(*a.hub));
  if (!server.ok()) return Fail(server.status());
  std::string host = listen.substr(0, listen.rfind(':'));
  std::cout << "ccburst-agent: listening on http://" << host << ":" << (*server)->ports()[0]
            << std::endl;
  spdlog::info("serving tee={} kbs={}", a.tee, a.kbs_url);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: shutting down", sig);
  (*server)->Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ccburst::agent::vtpm::QuietTss2Logging();  // sets an environment variable: before any thread
  spdlog::set_default_logger(spdlog::stderr_color_mt("ccburst-agent"));
  CLI::App app{"ccburst-agent: attestation agent and confidential data hub for a confidential pod"};
  app.require_subcommand(1);
  AgentSettings s;
  std::string config, log_level = "info";
  std::optional<std::string> kbs_url, kbs_cert, initdata, configfs_root, tpm, imds_url, ccel, tee,
      tee_key_alg;
  app.add_option("--config", config, "agent TOML");
  app.add_option("--tee", tee, "auto | tdx | snp | az-tdx-vtpm | az-snp-vtpm | sample");
  app.add_option("--kbs-url", kbs_url, "KBS URL (overrides init-data)");
  app.add_option("--kbs-cert", kbs_cert, "PEM certificate to pin for an https KBS");
  app.add_option("--initdata", initdata, "init-data TOML the pod was started with");
  app.add_option("--configfs-root", configfs_root, "configfs-tsm report directory");
  app.add_option("--tpm", tpm, "TPM TCTI");
  app.add_option("--imds-url", imds_url, "Azure IMDS base URL (vTPM attesters)");
  app.add_option("--ccel", ccel, "TDX CC event log (ACPI CCEL table data)");
  app.add_option("--tee-key-alg", tee_key_alg, "ECDH-ES+A256KW | RSA-OAEP-256 | RSA1_5")
      ->check(CLI::IsMember({"ECDH-ES+A256KW", "RSA-OAEP-256", "RSA1_5"}));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");

  std::optional<std::string> listen;
  auto* serve = app.add_subcommand("serve", "serve the CDH/AA API on loopback");
  serve->add_option("--listen", listen, "address:port (default 127.0.0.1:8006; port 0 = any)");

  std::string uri, output, in, out, key_uri, sealed_file;
  auto* get = app.add_subcommand("get-resource", "fetch a KBS resource into a file");
  get->add_option("uri", uri, "kbs:///repo/type/tag")->required();
  get->add_option("--output", output, "file to write (0600, atomic); stdout when absent");
  auto* decrypt = app.add_subcommand("decrypt", "decrypt an AES-256-GCM file with a KBS key");
  decrypt->add_option("--key", key_uri, "kbs:///repo/type/tag of the 32-byte key")->required();
  decrypt->add_option("--in", in, "encrypted file")->required();
  decrypt->add_option("--out", out, "plaintext file (0600, atomic)")->required();
  auto* unseal = app.add_subcommand("unseal", "print the secret a sealed secret names");
  unseal->add_option("file", sealed_file, "sealed secret file, or - for stdin")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (!config.empty()) {
    absl::Status st = agent::LoadAgentConfig(config, s);
    if (!st.ok()) return Fail(st);
  }
  if (tee) s.tee = *tee;
  if (kbs_url) s.kbs_url = kbs_url;
  if (kbs_cert) s.kbs_cert = kbs_cert;
  if (initdata) s.initdata = initdata;
  if (configfs_root) s.attester.configfs_root = *configfs_root;
  if (tpm) s.attester.tpm_tcti = *tpm;
  if (imds_url) s.attester.imds_url = *imds_url;
  if (ccel) s.attester.ccel_path = *ccel;
  if (tee_key_alg) s.tee_key_alg = *tee_key_alg;
  if (listen) s.listen = *listen;

  auto a = agent::StartAgent(s);
  if (!a.ok()) return Fail(a.status());

  if (serve->parsed()) return Serve(*a, s.listen);
  if (get->parsed()) {
    auto secret = a->hub->GetResource(uri);
    if (!secret.ok()) return Fail(secret.status());
    return Emit(output, *secret);
  }
  if (decrypt->parsed()) {
    auto key = a->hub->GetResource(key_uri);
    if (!key.ok()) return Fail(key.status());
    auto file = core::ReadFile(in);
    if (!file.ok()) return Fail(file.status());
    auto plain = agent::DecryptFile(*key, *file);
    if (!plain.ok()) return Fail(plain.status());
    return Emit(out, *plain);
  }
  std::string text;
  if (sealed_file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    auto t = core::ReadFile(sealed_file);
    if (!t.ok()) return Fail(t.status());
    text = *t;
  }
  auto secret = a->hub->Unseal(text);
  if (!secret.ok()) return Fail(secret.status());
  return Emit("", *secret);
}
