#include "apps/keys_command.h"

#include <filesystem>
#include <iostream>

#include "agent/admin_client.h"
#include "apps/cli_util.h"
#include "core/clock.h"
#include "core/file.h"
#include "crypto/key.h"
#include "crypto/x509.h"

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

}  // namespace

std::vector<Subcommand> KeyCommands() {
  auto keygen = std::make_shared<KeygenFlags>();
  auto cert = std::make_shared<MakeCertFlags>();
  return {
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
