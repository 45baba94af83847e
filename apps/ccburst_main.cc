// ccburst: the admin and client CLI. Mirrors Trustee's kbs-client (attest, get-resource,
// config ...) and adds key/token/certificate generation, `policy eval` and `verify` (offline
// TDX/SNP evidence verification for operators). main() is a table of subcommands; each command
// group lives in its own apps/<group>_command.{h,cc}.
#include <CLI/CLI.hpp>
#include <vector>

#include "apps/audit_command.h"
#include "apps/client_command.h"
#include "apps/command.h"
#include "apps/config_command.h"
#include "apps/keys_command.h"
#include "apps/policy_command.h"
#include "apps/seal_command.h"
#include "apps/verify_command.h"

int main(int argc, char** argv) {
  using namespace ccburst::apps;
  CLI::App app{"ccburst: client and admin CLI for ccburst-kbs (and any Trustee KBS)"};
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--url", global.url, "KBS base URL")->capture_default_str();
  app.add_option("--cert-file", global.cert_file, "PEM CA certificate to trust for an HTTPS KBS");

  std::vector<Subcommand> table;
  for (auto group : {AuditCommands(&global), ClientCommands(&global), ConfigCommands(&global),
                     KeyCommands(), PolicyCommands(), SealCommands(), VerifyCommands()}) {
    for (auto& row : group) table.push_back(std::move(row));
  }
  std::vector<CLI::App*> parsed;
  for (const Subcommand& row : table) {
    CLI::App* cmd = app.add_subcommand(row.name, row.help);
    row.set_up(cmd);
    parsed.push_back(cmd);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help is fine; any other parse error is a usage error
  }
  for (size_t i = 0; i < table.size(); ++i) {
    if (*parsed[i]) return table[i].run();
  }
  return 0;
}
