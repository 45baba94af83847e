// The one stand-in for TEE hardware in ccburst's tests: a plain directory that behaves, for the
// agent, as the kernel's configfs-tsm report directory does (Documentation/ABI/testing/
// configfs-tsm). No TDX/SNP hardware is available to the tests, so this process plays the
// kernel's part: when an entry directory is made under the root it adds `provider` and
// `generation` (0); when `inblob` is written it generates the report with that report data from a
// test hierarchy, writes `outblob` (and `auxblob`), then bumps `generation` — the kernel bumps it
// within the write and generates on the read, which the agent cannot tell apart. Race mode
// (toggled at run time) bumps `generation` once more per write, as a second writer on the same
// entry would, so the agent's race check can be exercised. Entries idle for 10 s are removed (the
// kernel removes an entry with its rmdir; a plain directory with files cannot be rmdir'ed).
// Never used outside tests.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"

namespace ccburst::agent::testing {

struct TsmStubReport {
  std::string outblob;
  std::string auxblob;  // not written when empty
};

struct TsmStubOptions {
  std::string root;
  std::string provider;  // "tdx_guest" or "sev_guest"
  // Makes the report for 64 bytes of report data; called on the stub's thread.
  std::function<absl::StatusOr<TsmStubReport>(std::string_view report_data)> generate;
};

class TsmStub {
 public:
  // Creates `root` if needed and starts polling it (every millisecond) on a thread.
  static absl::StatusOr<std::unique_ptr<TsmStub>> Start(TsmStubOptions options);
  ~TsmStub();  // stops the thread

  void set_race(bool race) { race_ = race; }
  bool race() const { return race_; }
  // Reports generated so far.
  int reports() const { return reports_; }

  // One pass over the root (the thread calls it; tests without the thread may too).
  void Poll();

 private:
  explicit TsmStub(TsmStubOptions options) : options_(std::move(options)) {}
  struct EntryState {
    uint64_t generation = 0;
    std::chrono::steady_clock::time_point last_activity;
  };
  TsmStubOptions options_;
  std::map<std::string, EntryState> entries_;
  std::atomic<bool> race_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int> reports_{0};
  std::thread thread_;
};

// The generators of the TDX and SNP hierarchies that `ccburst-testgen hierarchy` saved in `dir`:
// TDX quotes with `mr_config_id` (hex, may be empty) and `measurement` as MRTD (hex, empty = the
// generator's default), SNP reports with `host_data` (hex) and `measurement` (hex, empty = the
// generator's default). `tee` is "tdx" or "snp"; the provider
// name goes to `provider`.
absl::StatusOr<TsmStubOptions> HierarchyStubOptions(std::string_view tee, const std::string& dir,
                                                    std::string_view config_hex,
                                                    std::string_view measurement_hex);

}  // namespace ccburst::agent::testing
