// The attesters the agent can run, in ONE table: each row names a TEE, says whether this machine
// is one (`detect`) and makes its attester (`make`). `--tee auto` takes the first row whose
// detect() is true. Hardware attesters add their row here.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "agent/attester.h"
#include "core/status.h"

namespace ccburst::agent {

// Where the attesters find the hardware; tests point them at stand-ins.
struct AttesterOptions {
  std::string configfs_root = "/sys/kernel/config/tsm/report";
  std::string tpm_tcti = "device:/dev/tpmrm0";
  // Azure IMDS (TD quote / VCEK for the vTPM attesters); tests point it at `ccburst-testgen
  // imds-stub`.
  std::string imds_url = "http://169.254.169.254";
  // TDX CC event log (ACPI CCEL table data); sent as `cc_eventlog` when readable.
  std::string ccel_path = "/sys/firmware/acpi/tables/data/CCEL";
  // Legacy guest devices, used when configfs-tsm is not available.
  std::string tdx_guest_device = "/dev/tdx_guest";
  std::string sev_guest_device = "/dev/sev-guest";
};

struct AttesterEntry {
  std::string_view name;
  std::function<bool(const AttesterOptions&)> detect;
  std::function<absl::StatusOr<std::unique_ptr<Attester>>(const AttesterOptions&)> make;
};

// The table, in detection order (the Azure vTPM rows come before tdx/snp: an Azure CVM has no
// configfs-tsm provider of its own; `sample` is never detected).
std::span<const AttesterEntry> Attesters();

// The attester named `tee` ("auto" detects). InvalidArgument for an unknown name (listing the
// known ones), NotFound when `auto` detects no TEE, and make()'s error otherwise.
absl::StatusOr<std::unique_ptr<Attester>> MakeAttester(std::string_view tee,
                                                       const AttesterOptions& options);

// The configfs-tsm / ioctl attesters (agent/tee_attesters.cc).
absl::StatusOr<std::unique_ptr<Attester>> NewTdxAttester(const AttesterOptions& options);
absl::StatusOr<std::unique_ptr<Attester>> NewSnpAttester(const AttesterOptions& options);
bool DetectTdx(const AttesterOptions& options);
bool DetectSnp(const AttesterOptions& options);

}  // namespace ccburst::agent
