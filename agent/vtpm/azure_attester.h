// The Azure confidential-VM attesters (`az-tdx-vtpm`, `az-snp-vtpm`), as guest-components'
// attesters of the same names collect evidence: the HCL report the paravisor keeps in vTPM NV
// index 0x01400001 (a TDREPORT or SNP report whose REPORT_DATA binds the runtime claims, among them
// the vTPM attestation key HCLAkPub), a TPM2_Quote of PCR0..PCR23 (SHA-256 bank) by that key at
// persistent handle 0x81000003 with the session's binding digest as qualifying data, and what
// IMDS adds (the TD quote for the TDREPORT, or the VCEK). The result is the v1 evidence JSON of
// evidence/azure/evidence.h, which the KBS's az-*-vtpm verifiers check.
//
// The TPM is opened per Evidence() call (a TCTI string, so tests use swtpm) and nothing is cached:
// the HCL report and the PCRs are read fresh each time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/attester.h"
#include "agent/vtpm/imds.h"
#include "agent/vtpm/tpm.h"
#include "core/status.h"
#include "evidence/azure/evidence.h"

namespace ccburst::agent::vtpm {

inline constexpr uint32_t kHclReportNvIndex = 0x01400001;
inline constexpr uint32_t kAkHandle = 0x81000003;

struct AzureVtpmOptions {
  std::string tcti = std::string(kDefaultTcti);
  std::string imds_url = std::string(kDefaultImdsUrl);
  uint32_t hcl_report_nv_index = kHclReportNvIndex;
  uint32_t ak_handle = kAkHandle;
};

// The platform of an Azure CVM: the TPM answers, the HCL report NV index is readable and parses,
// and its hardware report type says TDX or SNP. NotFound when there is no TPM device or no HCL
// report index (not an Azure CVM); otherwise the TPM's or the HCL parser's error.
absl::StatusOr<evidence::azure::Platform> DetectAzureVtpm(const AzureVtpmOptions& options);

// Whether this is an Azure CVM of `platform` (DetectAzureVtpm succeeds with it): the `detect` of
// the agent's attester table.
bool IsAzureVtpm(evidence::azure::Platform platform, const AzureVtpmOptions& options);

// `tee` is "az-tdx-vtpm" or "az-snp-vtpm" (anything else is InvalidArgument). Does not touch the
// TPM; Evidence() does, and its errors start with the TEE name ("az-snp-vtpm: tpm: no
// attestation key at handle 0x81000003: ...").
absl::StatusOr<std::unique_ptr<Attester>> NewAzureVtpmAttester(std::string_view tee,
                                                               AzureVtpmOptions options = {});

// The init-data register (PCR8 of the SHA-256 bank, 32 bytes) the agent compares with
// evidence::azure::InitDataPcrValue(init-data digest).
absl::StatusOr<std::string> ReadInitDataPcr(std::string_view tcti = kDefaultTcti);

// The agent's init-data check on an Azure CVM: PCR8 must equal InitDataPcrValue(digest), what the
// KBS's verifier requires. PermissionDenied "vtpm: init-data: PCR8 <hex> does not match ..." on a
// mismatch; the TPM's errors otherwise. The attesters' CheckInitData() is this.
absl::Status CheckInitDataPcr(std::string_view digest, std::string_view tcti = kDefaultTcti);

// Extends PCR8 with the init-data digest, as guest-components' bind_init_data does on a VM whose
// host did not measure the init-data; from a zero PCR8 this gives InitDataPcrValue(digest). The
// digest must be 32 bytes (init-data `algorithm = "sha256"`, what the verifier's PCR8 check
// expects); another length is InvalidArgument.
absl::Status ExtendInitDataPcr(std::string_view digest, std::string_view tcti = kDefaultTcti);

}  // namespace ccburst::agent::vtpm
