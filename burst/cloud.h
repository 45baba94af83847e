// The peer-pod cloud model of the burst demo: `cloud-deployment` at N replicas is N confidential
// VMs. Each VM's host side starts when it is created; the VM boots for a configurable start-up
// delay (or until its host side is ready, when that takes longer), then runs its guest: the launch
// command templates of the demo's configuration, with its own work directory, measurement (MRTD)
// and init-data. The guest attests to the real ccburst-kbs and fetches
// `kbs:///default/key/model`; the VM decrypts the AES-256-GCM model file with the key and reports
// ready (serving). A guest the KBS refuses never serves and keeps the KBS's reason.
//
// A VM is `stub_command`, the host side of the confidential VM (for an Azure TDX CVM,
// scripts/burst-azure-vm.sh: the VM's own swtpm provisioned as its vTPM with the HCL report whose
// TDREPORT carries the VM's MRTD, and its own IMDS stand-in; for plain TDX, the configfs-tsm
// stand-in `ccburst-testgen tsm-stub` with the VM's MRTD and init-data digest as MRCONFIGID), and
// once the stand-in printed its first line, `agent_command` (`ccburst-agent ... serve --listen
// 127.0.0.1:0`), then an HTTP GET of /cdh/resource/default/key/model on the port the agent
// prints, as the workload's `curl http://127.0.0.1:8006/cdh/resource/...` would. Every
// `key=value` word of the stand-in's first line becomes a placeholder of the agent's command
// (`ready tpm=swtpm:... imds=http://...` gives {tpm} and {imds}).
// Template placeholders: {vm} {vm_dir} {mrtd} {initdata} {initdata_digest}, the entries of
// CloudOptions::vars (kbs_url kbs_cert hierarchy bin agent testgen and --var ones) and, for the
// agent, the stand-in's. Each command runs in its own process group, all of which is stopped with
// the VM, so nothing a stand-in starts outlives its VM.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace ccburst::burst {

struct CloudOptions {
  std::string stub_command;
  std::string agent_command;
  std::map<std::string, std::string> vars;  // kbs_url, kbs_cert, hierarchy, bin, ...
  std::string work_dir;                     // one sub-directory per VM
  // The init-data digest ({initdata_digest}): "sha384" (TDX binds it as MRCONFIGID) or "sha256"
  // (an Azure vTPM binds it in PCR8, a SHA-256 bank).
  std::string initdata_algorithm = "sha384";
  std::string good_mrtd;         // hex, in the reference values
  std::string tampered_mrtd;     // hex, not in the reference values
  int tampered_vm = 2;           // the n-th VM booted in a run is tampered (0: none)
  double startup_seconds = 90;   // simulated boot time
  std::string model_file;        // AES-256-GCM: nonce(12) || ciphertext || tag(16)
  std::string model_sha256_hex;  // of the plaintext, to check the decryption
  double price_per_hour = 0.83;
};

enum class VmState { kBooting, kAttesting, kServing, kRefused };
std::string_view VmStateName(VmState s);

struct Vm {
  int id = 0;
  bool tampered = false;
  double created = 0;
  VmState state = VmState::kBooting;
  std::string dir;
  std::string initdata_digest;  // hex digest of its init-data (CloudOptions::initdata_algorithm)
  std::vector<pid_t> pids;      // process group leaders: the stand-in, then the agent
  std::map<std::string, std::string> host_vars;  // the stand-in's `key=value` words
  std::optional<int> agent_port;
  std::string reason;  // why refused
  double ready_at = -1;
};

struct CloudTotals {
  int attested = 0;  // guests that got the key and decrypted the model
  int refused = 0;
  int secrets_released = 0;
  double instance_seconds = 0;
  std::vector<std::string> refusals;  // "vm-3 (mrtd 22..): <KBS reason>"
};

class Cloud {
 public:
  explicit Cloud(CloudOptions options) : options_(std::move(options)) {}
  ~Cloud();  // stops every guest process

  // Brings the fleet to `replicas` at simulated `now` (newest VMs are deleted first) and advances
  // every guest; `dt` is the simulated time since the last call (for instance-seconds).
  void Reconcile(int replicas, double now, double dt);
  // Deletes every VM and stops its processes.
  void StopAll();

  int Count(VmState s) const;
  int replicas() const { return static_cast<int>(vms_.size()); }
  const CloudTotals& totals() const { return totals_; }
  const std::vector<Vm>& vms() const { return vms_; }
  // Every VM ever booted, in its last state (deleted ones as they were when deleted).
  const std::vector<Vm>& history() const { return history_; }

 private:
  void Boot(Vm& vm);
  void Advance(Vm& vm, double now);
  void Finish(Vm& vm, double now, absl::StatusOr<std::string> key);
  std::string Expand(const std::string& tmpl, const Vm& vm) const;
  // Stops the VM's processes (each command's whole process group).
  static void StopProcesses(Vm& vm);

  CloudOptions options_;
  std::vector<Vm> vms_;
  std::vector<Vm> history_;
  int next_id_ = 1;
  CloudTotals totals_;
};

// AES-256-GCM with a 12-byte random nonce: nonce || ciphertext || 16-byte tag. Decrypt fails with
// kPermissionDenied when the tag does not verify (wrong key or tampered file).
absl::StatusOr<std::string> SealModel(std::string_view key, std::string_view plaintext);
absl::StatusOr<std::string> OpenModel(std::string_view key, std::string_view sealed);

}  // namespace ccburst::burst
