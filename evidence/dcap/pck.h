// The Intel SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1, Intel's "SGX PCK
// Certificate and Certificate Revocation List Profile Specification"): the platform's TCB as
// certified by Intel (16 SGX TCB component SVNs, PCESVN, CPUSVN), FMSPC, PCE-ID, SGX type and,
// for Platform CA issued certificates, the platform instance id and configuration flags. The
// TCB level of a TDX quote is selected from these values and the TD report's TEE_TCB_SVN.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "crypto/certificate.h"

namespace ccburst::evidence::dcap {

struct PckExtensions {
  std::string ppid;  // 16
  std::array<uint8_t, 16> sgx_tcb_comp_svns{};
  uint16_t pcesvn = 0;
  std::string cpusvn;  // 16
  std::string pce_id;  // 2
  std::string fmspc;   // 6
  int sgx_type = 0;    // 0 Standard, 1 Scalable, 2 Scalable with Integrity
  std::optional<std::string> platform_instance_id;  // 16, Platform CA only
  std::optional<bool> dynamic_platform;
  std::optional<bool> cached_keys;
  std::optional<bool> smt_enabled;
};

// Reads the SGX extensions of `cert`. A missing extension or a required member (PPID, TCB with
// all 18 entries, PCE-ID, FMSPC, SGX type) is InvalidArgument "tdx: pck certificate: ...".
absl::StatusOr<PckExtensions> ParsePckExtensions(const crypto::Certificate& cert);

}  // namespace ccburst::evidence::dcap
