// The ccburst CLI as a table of subcommands: each command group (verify, client, config, keys,
// policy) contributes rows {name, help, set-up, run}; main() adds every row to CLI11, parses and
// runs the one that was chosen. Command code lives here in apps/, never in the libraries it calls.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace ccburst::apps {

// Options every subcommand sees (the KBS to talk to).
struct GlobalOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string cert_file;
};

struct Subcommand {
  std::string name;
  std::string help;
  // Declares the subcommand's options and nested subcommands on `cmd`.
  std::function<void(CLI::App* cmd)> set_up;
  // Runs it after parsing; the process exit code.
  std::function<int()> run;
};

// "ccburst: <message>" on stderr; exit code 1.
int Fail(const absl::Status& s);

}  // namespace ccburst::apps
