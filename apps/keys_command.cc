#include "apps/keys_command.h"

#include <filesystem>
#include <iostream>

#include "agent/admin_client.h"
#include "apps/cli_util.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/file.h"
#include "crypto/key.h"
#include "crypto/random.h"
#include "crypto/x509.h"
#include "kbs/config.h"
#include "kbs/storage.h"

namespace ccburst::apps {
namespace {

struct KeygenFlags {
  std::string out_dir = ".", role = "admin", issuer = "ccburst-admin", audience = "kbs";
  int valid_days = 30;
  std::string signing_key_file;
};

int RunKeygen(const KeygenFlags& f) {
  std::filesystem::create_directories(f.out_dir);
  std::string dir = std::filesystem::path(f.out_dir).string();
  if (!f.signing_key_file.empty()) {
    auto pem = core::ReadFile(f.signing_key_file);
    if (!pem.ok()) return Fail(pem.status());
    auto token = agent::MakeAdminToken(*pem, f.issuer, f.audience, f.role,
                                       std::chrono::hours(24) * f.valid_days);
    if (!token.ok()) return Fail(token.status());
    if (auto s = WriteFile(dir + "/admin.token", *token + "\n", true); !s.ok()) return Fail(s);
    std::cout << "wrote " << dir << "/admin.token (role `" << f.role << "`)\n";
    return 0;
  }
  crypto::PrivateKey key = crypto::PrivateKey::GenerateEd25519();
  auto token = agent::MakeAdminToken(key.ToPem(), f.issuer, f.audience, f.role,
                                     std::chrono::hours(24) * f.valid_days);
  if (!token.ok()) return Fail(token.status());
  for (auto s : {WriteFile(dir + "/admin.key", key.ToPem(), true),
                 WriteFile(dir + "/admin.pub", key.Public().ToPem()),
                 WriteFile(dir + "/admin.token", *token + "\n", true)}) {
    if (!s.ok()) return Fail(s);
  }
  std::cout << "wrote " << dir << "/admin.key (keep secret), " << dir << "/admin.pub (for "
            << "[admin.authentication.bearer_jwt] public_key_uri), " << dir
            << "/admin.token (role `" << f.role << "`, issuer `" << f.issuer << "`, audience `"
            << f.audience << "`, valid " << f.valid_days << " days)\n";
  return 0;
}

struct MakeCertFlags {
  std::string out_dir = ".";
  std::vector<std::string> hosts{"127.0.0.1", "localhost"};
  int valid_days = 30;
};

int RunMakeCert(const MakeCertFlags& f) {
  std::filesystem::create_directories(f.out_dir);
  crypto::PrivateKey key = crypto::PrivateKey::GenerateEcP256();
  auto now = core::SystemClock::Get().Now();
  auto cert = crypto::MakeSelfSignedCertificate(key, f.hosts.empty() ? "ccburst" : f.hosts[0],
                                                f.hosts, now - std::chrono::minutes(5),
                                                now + std::chrono::hours(24) * f.valid_days);
  if (!cert.ok()) return Fail(cert.status());
  std::string dir = std::filesystem::path(f.out_dir).string();
  for (auto s :
       {WriteFile(dir + "/kbs.key", key.ToPem(), true), WriteFile(dir + "/kbs.crt", *cert)}) {
    if (!s.ok()) return Fail(s);
  }
  std::cout << "wrote " << dir << "/kbs.key and " << dir
            << "/kbs.crt (self-signed; clients trust it with --cert-file)\n";
  return 0;
}

struct KekFlags {
  std::string id;
  std::string out;
};

// A new key-encryption key line: `<id> <base64 of 32 random bytes>`.
int RunMakeKek(const KekFlags& f) {
  std::string id = f.id;
  if (id.empty()) {
    id = core::FormatRfc3339(core::SystemClock::Get().Now()).substr(0, 10) + "-" +
         core::HexEncode(crypto::RandomBytes(3));
  }
  std::string line = id + " " + core::Base64Encode(crypto::RandomBytes(32)) + "\n";
  if (f.out.empty()) {
    std::cout << line;
    return 0;
  }
  if (auto s = WriteFile(f.out, line, true); !s.ok()) return Fail(s);
  std::cout << "wrote key `" << id << "` to " << f.out
            << " (prepend it to the keyring to make it current, keep the old lines until "
               "`ccburst rotate-kek` has run)\n";
  return 0;
}

// Re-seals every stored value under the keyring's current key, through the same store the KBS
// opens from its configuration. Safe while the KBS runs (each value is a compare-and-swap).
int RunRotateKek(const std::string& config_path) {
  auto config = kbs::LoadKbsConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  auto keyring = kbs::LoadKeyring(config->storage);
  if (!keyring.ok()) return Fail(keyring.status());
  if (!*keyring) {
    return Fail(absl::FailedPreconditionError(
        "rotate-kek: the configuration has no [storage_backend.encryption] keyring"));
  }
  std::string current = (*keyring)->current().id;
  auto kv = kbs::OpenStorage(config->storage);
  if (!kv.ok()) return Fail(kv.status());
  auto* encrypted = dynamic_cast<store::EncryptedStore*>(kv->get());
  if (encrypted == nullptr) return Fail(absl::InternalError("rotate-kek: store is not encrypted"));
  auto result = encrypted->Rotate();
  if (!result.ok()) return Fail(result.status());
  std::cout << "re-encrypted " << result->resealed << " values under key `" << current << "` ("
            << result->current << " already were); older keys may now be removed from the "
            << "keyring\n";
  return 0;
}

}  // namespace

std::vector<Subcommand> KeyCommands() {
  auto keygen = std::make_shared<KeygenFlags>();
  auto cert = std::make_shared<MakeCertFlags>();
  auto kek = std::make_shared<KekFlags>();
  auto rotate_config = std::make_shared<std::string>();
  return {
      {"make-kek", "make a key-encryption key line for [storage_backend.encryption]",
       [kek](CLI::App* cmd) {
         cmd->add_option("--id", kek->id, "key id (default: today's date and a random suffix)");
         cmd->add_option("--out", kek->out, "write to this file (mode 0600) instead of stdout");
       },
       [kek] { return RunMakeKek(*kek); }},
      {"rotate-kek",
       "re-encrypt every value of the KBS store under the keyring's current (first) key",
       [rotate_config](CLI::App* cmd) {
         cmd->add_option("--config", *rotate_config, "the KBS's kbs.toml")->required();
       },
       [rotate_config] { return RunRotateKek(*rotate_config); }},
      {"keygen", "make an admin Ed25519 key pair and admin token",
       [keygen](CLI::App* cmd) {
         cmd->add_option("--out-dir", keygen->out_dir,
                         "where to write admin.key, admin.pub, admin.token")
             ->capture_default_str();
         cmd->add_option("--role", keygen->role, "`role` claim")->capture_default_str();
         cmd->add_option("--issuer", keygen->issuer, "`iss` claim")->capture_default_str();
         cmd->add_option("--audience", keygen->audience, "`aud` claim")->capture_default_str();
         cmd->add_option("--valid-days", keygen->valid_days, "token lifetime in days")
             ->capture_default_str();
         cmd->add_option("--private-key", keygen->signing_key_file,
                         "mint only a token, signed with this existing admin key");
       },
       [keygen] { return RunKeygen(*keygen); }},
      {"make-cert", "make a self-signed TLS key and certificate for local HTTPS (kbs.key, kbs.crt)",
       [cert](CLI::App* cmd) {
         cmd->add_option("--out-dir", cert->out_dir, "output directory")->capture_default_str();
         cmd->add_option("--host", cert->hosts, "DNS names / IPs for the certificate")
             ->capture_default_str();
         cmd->add_option("--valid-days", cert->valid_days, "validity in days")
             ->capture_default_str();
       },
       [cert] { return RunMakeCert(*cert); }},
  };
}

}  // namespace ccburst::apps
