// The few TPM 2.0 commands the Azure vTPM attesters need, over tpm2-tss (ESAPI + the TCTI
// loader): read an NV index, quote the SHA-256 PCR bank with a persistent attestation key, read
// and extend PCRs. The TCTI is a tpm2-tss TCTI string ("device:/dev/tpmrm0" on a VM,
// "swtpm:host=127.0.0.1,port=N" against a software TPM in tests).
//
// Errors start with "tpm: " and name the command and the handle: Unavailable when the TPM cannot
// be reached (no device, connection refused), NotFound for a missing NV index or key handle,
// FailedPrecondition when the TPM refuses a command (the TPM's response code is decoded in the
// message), InvalidArgument for arguments the TPM cannot take.
//
// A Tpm holds one ESAPI context and is not thread-safe; open one per use.
//
// tpm2-tss writes its own warnings to stderr (a missing handle is logged three times); our errors
// already carry the decoded response code, so the first Open() turns that logging off
// (TSS2_LOG=all+none) unless TSS2_LOG is set. A program with threads calls QuietTss2Logging()
// early in main(), before it starts them, since it sets an environment variable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "evidence/azure/tpm.h"

namespace ccburst::agent::vtpm {

inline constexpr std::string_view kDefaultTcti = "device:/dev/tpmrm0";

// Sets TSS2_LOG=all+none when TSS2_LOG is unset. Idempotent.
void QuietTss2Logging();

// A TPM2_Quote over PCR0..PCR23 of the SHA-256 bank, with the PCR values it covers.
struct TpmQuoteResult {
  std::string message;    // the marshalled TPMS_ATTEST
  std::string signature;  // the raw RSASSA signature (as the reference attester sends it)
  evidence::azure::Pcrs pcrs;
};

class Tpm {
 public:
  // Loads the TCTI `tcti` and starts an ESAPI context. A "device:PATH" whose PATH does not exist
  // is NotFound without touching tpm2-tss (so detection on a machine without a TPM stays quiet).
  static absl::StatusOr<std::unique_ptr<Tpm>> Open(std::string_view tcti);

  Tpm(const Tpm&) = delete;
  Tpm& operator=(const Tpm&) = delete;
  ~Tpm();

  // The whole contents of NV index `index`, read with owner authorization (empty password) in
  // chunks of the TPM's NV buffer size.
  absl::StatusOr<std::string> ReadNv(uint32_t index);

  // TPM2_Quote with the signing key at persistent handle `ak_handle` (its own scheme; it must be
  // RSASSA), `qualifying_data` (at most 64 bytes) as extraData, over PCR0..PCR23 of the SHA-256
  // bank, then the PCR values. The PCRs are read after the quote; when one changed in between
  // (the pcrDigest no longer matches) the quote is taken again, up to three times.
  absl::StatusOr<TpmQuoteResult> Quote(uint32_t ak_handle, std::string_view qualifying_data);

  // PCR0..PCR23 of the SHA-256 bank.
  absl::StatusOr<evidence::azure::Pcrs> ReadPcrs();

  // TPM2_PCR_Extend of PCR `index` (0..23) in the SHA-256 bank with `digest` (32 bytes).
  absl::Status ExtendPcr(uint32_t index, std::string_view digest);

 private:
  struct Impl;
  explicit Tpm(std::unique_ptr<Impl> impl);
  absl::StatusOr<TpmQuoteResult> QuoteOnce(uint32_t ak_handle, std::string_view qualifying_data);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ccburst::agent::vtpm
