// The vTPM quote of Azure confidential VMs: a TPMS_ATTEST (TPM 2.0 Part 2, "TPMS_ATTEST") of type
// TPM_ST_ATTEST_QUOTE signed by the paravisor's attestation key (HCLAkPub) with RSASSA-PKCS1-v1_5
// / SHA-256, plus the 24 SHA-256 PCR values the quote's pcrDigest covers. TPM structures are
// (un)marshalled with tpm2-tss (libtss2-mu) and checked strictly: magic, type, every length and
// nothing left over. Errors start with "tpm quote: " and name the check; malformed input is
// InvalidArgument, a failed check PermissionDenied.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/key.h"

namespace ccburst::evidence::azure {

// The PCRs of the SHA-256 bank that an Azure vTPM quote covers (PCR0..PCR23).
inline constexpr size_t kPcrCount = 24;
inline constexpr size_t kPcrSize = 32;
// The PCR that carries the init-data binding: PCR8 == SHA-256(32 zero bytes || digest).
inline constexpr size_t kInitDataPcr = 8;
inline constexpr uint32_t kTpmGeneratedValue = 0xff544347;
inline constexpr uint16_t kTpmStAttestQuote = 0x8018;
inline constexpr uint16_t kTpmAlgSha256 = 0x000b;
inline constexpr uint16_t kTpmAlgRsassa = 0x0014;

using Pcrs = std::array<std::string, kPcrCount>;

// A parsed TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE.
struct QuoteAttest {
  std::string qualified_signer;
  std::string extra_data;  // the nonce the verifier supplied (the session binding)
  uint64_t clock = 0;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
  bool safe = false;
  uint64_t firmware_version = 0;
  // One (hash algorithm, selected PCR indices ascending) per bank in the selection.
  struct Bank {
    uint16_t hash = 0;
    std::vector<uint32_t> pcrs;
  };
  std::vector<Bank> selection;
  std::string pcr_digest;
};

// Parses `message` strictly. InvalidArgument "tpm quote: ..." for a structure tpm2-tss cannot
// unmarshal (truncated, a size over its maximum), bytes left over, a magic other than
// TPM_GENERATED_VALUE or a type other than TPM_ST_ATTEST_QUOTE.
absl::StatusOr<QuoteAttest> ParseQuoteAttest(std::string_view message);

// The inverse of ParseQuoteAttest, for test generators. Fields over their TPM maximum are
// InvalidArgument.
absl::StatusOr<std::string> MarshalQuoteAttest(const QuoteAttest& attest);

// The RSA signature bytes of `signature`: either the raw signature (exactly `modulus_bytes` long,
// what the reference attester sends) or a marshalled TPMT_SIGNATURE, which must be RSASSA with
// SHA-256 and leave nothing over. InvalidArgument otherwise.
absl::StatusOr<std::string> RsaSignatureBytes(std::string_view signature, size_t modulus_bytes);

// A marshalled TPMT_SIGNATURE {RSASSA, SHA-256, sig} (test generators).
std::string MarshalRsassaSignature(std::string_view sig);

// RSASSA-PKCS1-v1_5 / SHA-256 over `message` by `ak`: PermissionDenied
// "tpm quote: signature does not verify with HCLAkPub" on a mismatch.
absl::Status VerifyQuoteSignature(const crypto::PublicKey& ak, std::string_view message,
                                  std::string_view signature);

// The selection must be the SHA-256 bank with exactly PCR0..PCR23 (the PCR values the evidence
// carries; anything else would leave claimed PCRs unauthenticated) and pcrDigest must equal
// SHA-256(PCR0 || ... || PCR23). PermissionDenied naming the mismatch.
absl::Status CheckPcrs(const QuoteAttest& attest, const Pcrs& pcrs);

// SHA-256(32 zero bytes || digest): the PCR8 value of a VM whose init-data has digest `digest`.
std::string InitDataPcrValue(std::string_view digest);

}  // namespace ccburst::evidence::azure
