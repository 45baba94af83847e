#include "apps/seal_command.h"

#include <iostream>

#include "agent/encrypted_file.h"
#include "agent/sealed_secret.h"
#include "apps/cli_util.h"
#include "core/file.h"

namespace ccburst::apps {
namespace {

struct SealFlags {
  std::string resource;
};

int RunSeal(const SealFlags& f) {
  auto sealed = agent::SealVaultSecret(f.resource);
  if (!sealed.ok()) return Fail(sealed.status());
  std::cout << *sealed << "\n";
  return 0;
}

struct EncryptFlags {
  std::string key_file, in, out;
};

int RunEncrypt(const EncryptFlags& f) {
  auto key = core::ReadFile(f.key_file);
  if (!key.ok()) return Fail(key.status());
  auto plain = core::ReadFile(f.in);
  if (!plain.ok()) return Fail(plain.status());
  auto file = agent::EncryptFile(*key, *plain);
  if (!file.ok()) return Fail(file.status());
  absl::Status s = WriteFile(f.out, *file);
  return s.ok() ? 0 : Fail(s);
}

}  // namespace

std::vector<Subcommand> SealCommands() {
  auto seal = std::make_shared<SealFlags>();
  auto encrypt = std::make_shared<EncryptFlags>();
  return {
      {"seal", "print a sealed secret (vault, provider kbs) naming a KBS resource",
       [seal](CLI::App* cmd) {
         cmd->add_option("--resource", seal->resource, "kbs:///repo/type/tag")->required();
       },
       [seal] { return RunSeal(*seal); }},
      {"encrypt-file", "encrypt a file for `ccburst-agent decrypt` (AES-256-GCM)",
       [encrypt](CLI::App* cmd) {
         cmd->add_option("--key-file", encrypt->key_file, "32-byte key (the KBS resource)")
             ->required();
         cmd->add_option("--in", encrypt->in, "plaintext file")->required();
         cmd->add_option("--out", encrypt->out, "encrypted file")->required();
       },
       [encrypt] { return RunEncrypt(*encrypt); }},
  };
}

}  // namespace ccburst::apps
