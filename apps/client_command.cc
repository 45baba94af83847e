#include "apps/client_command.h"

#include <iostream>

#include "agent/attester.h"
#include "agent/kbs_client.h"
#include "apps/cli_util.h"
#include "core/file.h"
#include "crypto/key.h"

namespace ccburst::apps {
namespace {

const std::vector<std::string> kAlgs{"ECDH-ES+A256KW", "ECDH-ES+A256KW-P521", "RSA-OAEP-256",
                                     "RSA1_5"};

absl::StatusOr<std::unique_ptr<agent::KbsClient>> Client(const GlobalOptions& g,
                                                         const std::string& alg,
                                                         const std::string& tee_key_file) {
  CCB_ASSIGN_OR_RETURN(auto http, Http(g));
  crypto::PrivateKey key = crypto::PrivateKey::GenerateEcP256();
  if (!tee_key_file.empty()) {
    CCB_ASSIGN_OR_RETURN(key, crypto::PrivateKey::LoadPemFile(tee_key_file));
  } else if (alg == "RSA-OAEP-256" || alg == "RSA1_5") {
    key = crypto::PrivateKey::GenerateRsa(2048);
  } else if (alg == "ECDH-ES+A256KW-P521") {
    key = crypto::PrivateKey::GenerateEcP521();
  }
  std::string wire_alg = alg == "ECDH-ES+A256KW-P521" ? "ECDH-ES+A256KW" : alg;
  return std::make_unique<agent::KbsClient>(std::move(http), agent::NewSampleAttester(),
                                            std::move(key), wire_alg);
}

struct AttestFlags {
  std::string tee_key_alg = "ECDH-ES+A256KW";
  std::string init_data_file, tee_key_file;
};

int RunAttest(const GlobalOptions& g, const AttestFlags& f) {
  auto client = Client(g, f.tee_key_alg, f.tee_key_file);
  if (!client.ok()) return Fail(client.status());
  std::optional<std::string> init_data;
  if (!f.init_data_file.empty()) {
    auto text = core::ReadFile(f.init_data_file);
    if (!text.ok()) return Fail(text.status());
    init_data = *text;
  }
  auto token = (*client)->Attest(init_data);
  if (!token.ok()) return Fail(token.status());
  std::cout << *token << "\n";
  return 0;
}

struct GetFlags {
  std::string tee_key_alg = "ECDH-ES+A256KW";
  std::string res_path, output, token_file, tee_key_file;
};

int RunGet(const GlobalOptions& g, const GetFlags& f) {
  if (!f.token_file.empty() && f.tee_key_file.empty()) {
    return Fail(absl::InvalidArgumentError(
        "--attestation-token needs --tee-key-file (the key bound into that token)"));
  }
  auto client = Client(g, f.tee_key_alg, f.tee_key_file);
  if (!client.ok()) return Fail(client.status());
  if (!f.token_file.empty()) {
    auto token = core::ReadFile(f.token_file);
    if (!token.ok()) return Fail(token.status());
    (*client)->set_bearer_token(Trim(*token));
  }
  auto secret = (*client)->GetResource(f.res_path);
  if (!secret.ok()) return Fail(secret.status());
  if (!f.output.empty()) {
    auto s = WriteFile(f.output, *secret, true);
    if (!s.ok()) return Fail(s);
  } else {
    std::cout << *secret;
    std::cout.flush();
  }
  return 0;
}

}  // namespace

std::vector<Subcommand> ClientCommands(const GlobalOptions* global) {
  auto attest = std::make_shared<AttestFlags>();
  auto get = std::make_shared<GetFlags>();
  return {
      {"attest", "attest as a sample TEE and print the EAR token",
       [attest](CLI::App* cmd) {
         cmd->add_option("--tee-key-alg", attest->tee_key_alg, "TEE key wrapping algorithm")
             ->check(CLI::IsMember(kAlgs));
         cmd->add_option("--init-data", attest->init_data_file,
                         "init-data TOML to bind into the evidence");
         cmd->add_option("--tee-key-file", attest->tee_key_file,
                         "PEM private key to bind (default: a fresh key), for later bearer use");
       },
       [global, attest] { return RunAttest(*global, *attest); }},
      {"get-resource", "attest (sample TEE) and fetch a resource",
       [get](CLI::App* cmd) {
         cmd->add_option("--path", get->res_path, "repository/type/tag")->required();
         cmd->add_option("--output", get->output, "write the secret here instead of stdout");
         cmd->add_option("--attestation-token", get->token_file,
                         "use this EAR token (passport model)");
         cmd->add_option("--tee-key-file", get->tee_key_file,
                         "PEM private key bound into that token");
         cmd->add_option("--tee-key-alg", get->tee_key_alg, "TEE key wrapping algorithm")
             ->check(CLI::IsMember(kAlgs));
       },
       [global, get] { return RunGet(*global, *get); }},
  };
}

}  // namespace ccburst::apps
