#include "evidence/azure/tpm.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include <cstring>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/signature.h"

namespace ccburst::evidence::azure {
namespace {

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

absl::Status MuError(TSS2_RC rc, std::string_view what, size_t size) {
  std::string_view reason = "malformed";
  if (rc == TSS2_MU_RC_INSUFFICIENT_BUFFER) reason = "truncated";
  if (rc == TSS2_MU_RC_BAD_SIZE) reason = "has a size over its maximum";
  if (rc == TSS2_MU_RC_BAD_VALUE) reason = "has an invalid value";
  return absl::InvalidArgumentError(
      fmt::format("tpm quote: {} ({} bytes) {} (tss2 rc {:#x})", what, size, reason, rc));
}

template <typename T>
bool Assign(T* dst_size, uint8_t* dst, size_t cap, std::string_view src) {
  if (src.size() > cap) return false;
  *dst_size = static_cast<T>(src.size());
  if (!src.empty()) std::memcpy(dst, src.data(), src.size());
  return true;
}

}  // namespace

absl::StatusOr<QuoteAttest> ParseQuoteAttest(std::string_view message) {
  TPMS_ATTEST a{};
  size_t offset = 0;
  TSS2_RC rc = Tss2_MU_TPMS_ATTEST_Unmarshal(Bytes(message), message.size(), &offset, &a);
  if (rc != TSS2_RC_SUCCESS) return MuError(rc, "TPMS_ATTEST", message.size());
  if (offset != message.size()) {
    return absl::InvalidArgumentError(
        fmt::format("tpm quote: TPMS_ATTEST has {} bytes left over after {} bytes",
                    message.size() - offset, offset));
  }
  if (a.magic != kTpmGeneratedValue) {
    return absl::InvalidArgumentError(
        fmt::format("tpm quote: magic {:#010x} is not TPM_GENERATED_VALUE {:#010x}", a.magic,
                    kTpmGeneratedValue));
  }
  if (a.type != kTpmStAttestQuote) {
    return absl::InvalidArgumentError(fmt::format(
        "tpm quote: type {:#06x} is not TPM_ST_ATTEST_QUOTE {:#06x}", a.type, kTpmStAttestQuote));
  }
  QuoteAttest q;
  q.qualified_signer.assign(reinterpret_cast<const char*>(a.qualifiedSigner.name),
                            a.qualifiedSigner.size);
  q.extra_data.assign(reinterpret_cast<const char*>(a.extraData.buffer), a.extraData.size);
  q.clock = a.clockInfo.clock;
  q.reset_count = a.clockInfo.resetCount;
  q.restart_count = a.clockInfo.restartCount;
  q.safe = a.clockInfo.safe != 0;
  q.firmware_version = a.firmwareVersion;
  const TPMS_QUOTE_INFO& info = a.attested.quote;
  for (uint32_t i = 0; i < info.pcrSelect.count; ++i) {
    const TPMS_PCR_SELECTION& s = info.pcrSelect.pcrSelections[i];
    QuoteAttest::Bank bank;
    bank.hash = s.hash;
    for (uint32_t byte = 0; byte < s.sizeofSelect; ++byte) {
      for (uint32_t bit = 0; bit < 8; ++bit) {
        if ((s.pcrSelect[byte] >> bit) & 1) bank.pcrs.push_back(byte * 8 + bit);
      }
    }
    q.selection.push_back(std::move(bank));
  }
  q.pcr_digest.assign(reinterpret_cast<const char*>(info.pcrDigest.buffer), info.pcrDigest.size);
  return q;
}

absl::StatusOr<std::string> MarshalQuoteAttest(const QuoteAttest& q) {
  TPMS_ATTEST a{};
  a.magic = kTpmGeneratedValue;
  a.type = kTpmStAttestQuote;
  auto too_big = [](std::string_view f) {
    return absl::InvalidArgumentError(fmt::format("tpm quote: {} is over its maximum size", f));
  };
  if (!Assign(&a.qualifiedSigner.size, a.qualifiedSigner.name, sizeof(a.qualifiedSigner.name),
              q.qualified_signer)) {
    return too_big("qualifiedSigner");
  }
  if (!Assign(&a.extraData.size, a.extraData.buffer, sizeof(a.extraData.buffer), q.extra_data)) {
    return too_big("extraData");
  }
  a.clockInfo.clock = q.clock;
  a.clockInfo.resetCount = q.reset_count;
  a.clockInfo.restartCount = q.restart_count;
  a.clockInfo.safe = q.safe ? 1 : 0;
  a.firmwareVersion = q.firmware_version;
  TPMS_QUOTE_INFO& info = a.attested.quote;
  if (q.selection.size() > TPM2_NUM_PCR_BANKS) return too_big("pcrSelect");
  info.pcrSelect.count = static_cast<uint32_t>(q.selection.size());
  for (size_t i = 0; i < q.selection.size(); ++i) {
    TPMS_PCR_SELECTION& s = info.pcrSelect.pcrSelections[i];
    s.hash = q.selection[i].hash;
    s.sizeofSelect = 3;
    for (uint32_t pcr : q.selection[i].pcrs) {
      if (pcr >= TPM2_PCR_SELECT_MAX * 8) return too_big("pcrSelect");
      s.sizeofSelect = std::max<uint8_t>(s.sizeofSelect, pcr / 8 + 1);
      s.pcrSelect[pcr / 8] |= static_cast<uint8_t>(1u << (pcr % 8));
    }
  }
  if (!Assign(&info.pcrDigest.size, info.pcrDigest.buffer, sizeof(info.pcrDigest.buffer),
              q.pcr_digest)) {
    return too_big("pcrDigest");
  }
  std::string out(sizeof(TPMS_ATTEST), '\0');
  size_t offset = 0;
  TSS2_RC rc =
      Tss2_MU_TPMS_ATTEST_Marshal(&a, reinterpret_cast<uint8_t*>(out.data()), out.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) return MuError(rc, "TPMS_ATTEST", 0);
  out.resize(offset);
  return out;
}

absl::StatusOr<std::string> RsaSignatureBytes(std::string_view signature, size_t modulus_bytes) {
  if (signature.size() == modulus_bytes) return std::string(signature);
  TPMT_SIGNATURE s{};
  size_t offset = 0;
  TSS2_RC rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(Bytes(signature), signature.size(), &offset, &s);
  if (rc != TSS2_RC_SUCCESS) {
    return absl::InvalidArgumentError(fmt::format(
        "tpm quote: signature is {} bytes: neither a {}-byte RSA signature nor a TPMT_SIGNATURE",
        signature.size(), modulus_bytes));
  }
  if (offset != signature.size()) {
    return absl::InvalidArgumentError(
        fmt::format("tpm quote: TPMT_SIGNATURE has {} bytes left over", signature.size() - offset));
  }
  if (s.sigAlg != kTpmAlgRsassa || s.signature.rsassa.hash != kTpmAlgSha256) {
    return absl::InvalidArgumentError(
        fmt::format("tpm quote: signature scheme {:#06x} / hash {:#06x} is not RSASSA / SHA-256",
                    s.sigAlg, s.signature.rsassa.hash));
  }
  return std::string(reinterpret_cast<const char*>(s.signature.rsassa.sig.buffer),
                     s.signature.rsassa.sig.size);
}

std::string MarshalRsassaSignature(std::string_view sig) {
  TPMT_SIGNATURE s{};
  s.sigAlg = kTpmAlgRsassa;
  s.signature.rsassa.hash = kTpmAlgSha256;
  Assign(&s.signature.rsassa.sig.size, s.signature.rsassa.sig.buffer,
         sizeof(s.signature.rsassa.sig.buffer), sig);
  std::string out(sizeof(TPMT_SIGNATURE), '\0');
  size_t offset = 0;
  Tss2_MU_TPMT_SIGNATURE_Marshal(&s, reinterpret_cast<uint8_t*>(out.data()), out.size(), &offset);
  out.resize(offset);
  return out;
}

absl::Status VerifyQuoteSignature(const crypto::PublicKey& ak, std::string_view message,
                                  std::string_view signature) {
  if (ak.type() != crypto::KeyType::kRsa) {
    return absl::InvalidArgumentError("tpm quote: HCLAkPub is not an RSA key");
  }
  size_t modulus_bytes = static_cast<size_t>(EVP_PKEY_get_size(ak.get()));
  CCB_ASSIGN_OR_RETURN(std::string sig, RsaSignatureBytes(signature, modulus_bytes));
  if (!crypto::VerifyRsaPkcs1(ak, crypto::HashAlg::kSha256, message, sig).ok()) {
    return absl::PermissionDeniedError("tpm quote: signature does not verify with HCLAkPub");
  }
  return absl::OkStatus();
}

absl::Status CheckPcrs(const QuoteAttest& attest, const Pcrs& pcrs) {
  auto selection = [&] {
    std::string s;
    for (const auto& b : attest.selection) {
      s += fmt::format("{}{:#06x}:{{{}}}", s.empty() ? "" : " ", b.hash, fmt::join(b.pcrs, ","));
    }
    return s.empty() ? std::string("none") : s;
  };
  bool all = attest.selection.size() == 1 && attest.selection[0].hash == kTpmAlgSha256 &&
             attest.selection[0].pcrs.size() == kPcrCount;
  for (size_t i = 0; all && i < kPcrCount; ++i) all = attest.selection[0].pcrs[i] == i;
  if (!all) {
    return absl::PermissionDeniedError(fmt::format(
        "tpm quote: pcr selection {} is not the SHA-256 bank PCR0-23 that `pcrs` carries",
        selection()));
  }
  std::string concat;
  concat.reserve(kPcrCount * kPcrSize);
  for (const std::string& p : pcrs) concat += p;
  if (crypto::Sha256(concat) != attest.pcr_digest) {
    return absl::PermissionDeniedError(
        fmt::format("tpm quote: pcrDigest {} does not match sha256 of the 24 pcrs {}",
                    core::HexEncode(attest.pcr_digest), core::HexEncode(crypto::Sha256(concat))));
  }
  return absl::OkStatus();
}

std::string InitDataPcrValue(std::string_view digest) {
  std::string in(32, '\0');
  in.append(digest);
  return crypto::Sha256(in);
}

}  // namespace ccburst::evidence::azure
