// configfs-tsm, the kernel's one interface for TEE attestation reports (Linux 6.7+,
// Documentation/ABI/testing/configfs-tsm): a directory made under <root>
// (/sys/kernel/config/tsm/report) gets the attributes `provider` (tdx_guest, sev_guest, ...),
// `generation` (bumped by every write to an attribute of the entry), `inblob` (up to 64 bytes of
// report data), `outblob` (the TDX quote or the SNP report, generated on read) and `auxblob`
// (SNP: the certificate table). A `generation` other than the one our write produced means that
// another process wrote the entry between our write and our read: the report may carry its
// report data, so it is discarded.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::agent {

struct TsmOptions {
  std::string root = "/sys/kernel/config/tsm/report";
  // The `provider` the entry must report: "tdx_guest" or "sev_guest".
  std::string provider;
  bool read_auxblob = false;
  // Reports attempted before a generation race is refused.
  int attempts = 3;
  // How long an attribute may take to appear or `generation` to move after our write (immediate
  // with the kernel; the test stand-in, `ccburst-testgen tsm-stub`, answers within milliseconds).
  std::chrono::milliseconds attribute_wait{3000};
};

struct TsmReport {
  std::string outblob;
  std::string auxblob;  // empty when not read or not provided
};

// Creates an entry, writes `inblob`, reads the report and removes the entry. Errors name the
// entry and the attribute: FailedPrecondition for a root that is not a configfs-tsm directory or
// another provider, Unavailable for I/O failures and for a generation race that persists after
// `attempts` tries ("tsm: generation of `<entry>` went from 4 to 6 while the report was read
// (another writer); refused after 3 attempts").
absl::StatusOr<TsmReport> TsmGetReport(const TsmOptions& options, std::string_view inblob);

// The provider of the configfs-tsm root (a probe entry is made and removed), or an error when
// there is none (no such directory, no provider within `attribute_wait`).
absl::StatusOr<std::string> TsmProvider(const std::string& root,
                                        std::chrono::milliseconds attribute_wait);

}  // namespace ccburst::agent
