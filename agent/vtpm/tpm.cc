#include "agent/vtpm/tpm.h"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>

#include "crypto/hash.h"
#include "evidence/azure/tpm.h"

namespace ccburst::agent::vtpm {
namespace {

namespace az = evidence::azure;

constexpr size_t kMaxQualifyingData = sizeof(TPMU_HA);  // 64
constexpr int kQuoteAttempts = 3;
constexpr uint16_t kDefaultNvBuffer = 512;

bool IsTpmLayer(TSS2_RC rc) { return (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER; }

// A TPM that answered and said no is FailedPrecondition; anything below it (TCTI, transport,
// ESAPI's own checks of the response) is Unavailable.
absl::Status TssError(TSS2_RC rc, std::string_view what) {
  return absl::Status(
      IsTpmLayer(rc) ? absl::StatusCode::kFailedPrecondition : absl::StatusCode::kUnavailable,
      fmt::format("tpm: {}: {}", what, Tss2_RC_Decode(rc)));
}

template <typename T>
struct EsysFreer {
  void operator()(T* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFreer<T>>;

TPML_PCR_SELECTION Sha256Selection(uint32_t mask) {
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  for (int i = 0; i < 3; ++i) sel.pcrSelections[0].pcrSelect[i] = (mask >> (8 * i)) & 0xff;
  return sel;
}

constexpr uint32_t kAllPcrs = (1u << az::kPcrCount) - 1;

}  // namespace

struct Tpm::Impl {
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  ESYS_CONTEXT* esys = nullptr;
  ~Impl() {
    if (esys != nullptr) Esys_Finalize(&esys);
    if (tcti != nullptr) Tss2_TctiLdr_Finalize(&tcti);
  }

  // An ESYS_TR for the TPM object at `handle`, closed on destruction.
  struct Object {
    ESYS_CONTEXT* esys;
    ESYS_TR tr = ESYS_TR_NONE;
    ~Object() {
      if (tr != ESYS_TR_NONE) Esys_TR_Close(esys, &tr);
    }
  };
  absl::Status FromPublic(uint32_t handle, std::string_view what, Object* out) {
    out->esys = esys;
    TSS2_RC rc =
        Esys_TR_FromTPMPublic(esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &out->tr);
    if (rc == TSS2_RC_SUCCESS) return absl::OkStatus();
    absl::Status s = TssError(rc, fmt::format("no {} at handle 0x{:08x}", what, handle));
    return IsTpmLayer(rc) ? core::WithCode(s, absl::StatusCode::kNotFound) : s;
  }
};

void QuietTss2Logging() {
  static std::once_flag once;
  std::call_once(once, [] { setenv("TSS2_LOG", "all+none", /*overwrite=*/0); });
}

Tpm::Tpm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tpm::~Tpm() = default;

absl::StatusOr<std::unique_ptr<Tpm>> Tpm::Open(std::string_view tcti) {
  if (tcti.starts_with("device:")) {
    std::string path(tcti.substr(7));
    if (path.empty()) path = "/dev/tpmrm0";
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      return absl::NotFoundError(fmt::format("tpm: no TPM device {}", path));
    }
  }
  QuietTss2Logging();
  auto impl = std::make_unique<Impl>();
  std::string conf(tcti);
  TSS2_RC rc = Tss2_TctiLdr_Initialize(conf.c_str(), &impl->tcti);
  if (rc != TSS2_RC_SUCCESS) {
    impl->tcti = nullptr;
    return absl::UnavailableError(
        fmt::format("tpm: cannot open TCTI \"{}\": {}", tcti, Tss2_RC_Decode(rc)));
  }
  rc = Esys_Initialize(&impl->esys, impl->tcti, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    impl->esys = nullptr;
    return TssError(rc, fmt::format("cannot start an ESAPI context on \"{}\"", tcti));
  }
  return std::unique_ptr<Tpm>(new Tpm(std::move(impl)));
}

absl::StatusOr<std::string> Tpm::ReadNv(uint32_t index) {
  ESYS_CONTEXT* esys = impl_->esys;
  Impl::Object nv;
  CCB_RETURN_IF_ERROR(impl_->FromPublic(index, "NV index", &nv));
  TPM2B_NV_PUBLIC* pub_raw = nullptr;
  TSS2_RC rc =
      Esys_NV_ReadPublic(esys, nv.tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub_raw, nullptr);
  EsysPtr<TPM2B_NV_PUBLIC> pub(pub_raw);
  if (rc != TSS2_RC_SUCCESS) return TssError(rc, fmt::format("NV_ReadPublic 0x{:08x}", index));
  const uint16_t size = pub->nvPublic.dataSize;

  uint16_t chunk = kDefaultNvBuffer;
  TPMS_CAPABILITY_DATA* cap_raw = nullptr;
  rc = Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                          TPM2_PT_NV_BUFFER_MAX, 1, nullptr, &cap_raw);
  EsysPtr<TPMS_CAPABILITY_DATA> cap(cap_raw);
  if (rc == TSS2_RC_SUCCESS && cap->data.tpmProperties.count == 1 &&
      cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX &&
      cap->data.tpmProperties.tpmProperty[0].value > 0) {
    chunk = static_cast<uint16_t>(
        std::min<uint32_t>(cap->data.tpmProperties.tpmProperty[0].value, TPM2_MAX_NV_BUFFER_SIZE));
  }

  std::string out;
  out.reserve(size);
  while (out.size() < size) {
    uint16_t n = static_cast<uint16_t>(std::min<size_t>(chunk, size - out.size()));
    TPM2B_MAX_NV_BUFFER* data_raw = nullptr;
    rc = Esys_NV_Read(esys, ESYS_TR_RH_OWNER, nv.tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                      n, static_cast<uint16_t>(out.size()), &data_raw);
    EsysPtr<TPM2B_MAX_NV_BUFFER> data(data_raw);
    if (rc != TSS2_RC_SUCCESS) {
      return TssError(rc, fmt::format("NV_Read 0x{:08x} at offset {}", index, out.size()));
    }
    if (data->size != n) {
      return absl::UnavailableError(
          fmt::format("tpm: NV_Read 0x{:08x} at offset {} returned {} bytes, asked {}", index,
                      out.size(), data->size, n));
    }
    out.append(reinterpret_cast<const char*>(data->buffer), data->size);
  }
  return out;
}

absl::StatusOr<az::Pcrs> Tpm::ReadPcrs() {
  std::array<std::optional<std::string>, az::kPcrCount> got;
  uint32_t remaining = kAllPcrs;
  while (remaining != 0) {
    TPML_PCR_SELECTION in = Sha256Selection(remaining);
    TPML_PCR_SELECTION* sel_raw = nullptr;
    TPML_DIGEST* values_raw = nullptr;
    TSS2_RC rc = Esys_PCR_Read(impl_->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in, nullptr,
                               &sel_raw, &values_raw);
    EsysPtr<TPML_PCR_SELECTION> sel(sel_raw);
    EsysPtr<TPML_DIGEST> values(values_raw);
    if (rc != TSS2_RC_SUCCESS) return TssError(rc, "PCR_Read of the SHA-256 bank");
    if (sel->count != 1 || sel->pcrSelections[0].hash != TPM2_ALG_SHA256) {
      return absl::FailedPreconditionError("tpm: the TPM has no SHA-256 PCR bank");
    }
    uint32_t mask = 0;
    for (int i = 0; i < std::min<int>(sel->pcrSelections[0].sizeofSelect, 3); ++i) {
      mask |= static_cast<uint32_t>(sel->pcrSelections[0].pcrSelect[i]) << (8 * i);
    }
    mask &= remaining;
    if (mask == 0) return absl::FailedPreconditionError("tpm: PCR_Read returned no SHA-256 PCR");
    uint32_t k = 0;
    for (uint32_t i = 0; i < az::kPcrCount; ++i) {
      if ((mask & (1u << i)) == 0) continue;
      if (k >= values->count || values->digests[k].size != az::kPcrSize) {
        return absl::UnavailableError(
            fmt::format("tpm: PCR_Read: no 32-byte SHA-256 value for PCR{}", i));
      }
      got[i] = std::string(reinterpret_cast<const char*>(values->digests[k].buffer), az::kPcrSize);
      ++k;
    }
    remaining &= ~mask;
  }
  az::Pcrs pcrs;
  for (size_t i = 0; i < az::kPcrCount; ++i) pcrs[i] = *std::move(got[i]);
  return pcrs;
}

absl::StatusOr<TpmQuoteResult> Tpm::QuoteOnce(uint32_t ak_handle,
                                              std::string_view qualifying_data) {
  Impl::Object ak;
  CCB_RETURN_IF_ERROR(impl_->FromPublic(ak_handle, "attestation key", &ak));
  TPM2B_DATA qd{};
  qd.size = static_cast<uint16_t>(qualifying_data.size());
  std::copy(qualifying_data.begin(), qualifying_data.end(), reinterpret_cast<char*>(qd.buffer));
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;
  TPML_PCR_SELECTION sel = Sha256Selection(kAllPcrs);
  TPM2B_ATTEST* quoted_raw = nullptr;
  TPMT_SIGNATURE* sig_raw = nullptr;
  TSS2_RC rc = Esys_Quote(impl_->esys, ak.tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd,
                          &scheme, &sel, &quoted_raw, &sig_raw);
  EsysPtr<TPM2B_ATTEST> quoted(quoted_raw);
  EsysPtr<TPMT_SIGNATURE> sig(sig_raw);
  if (rc != TSS2_RC_SUCCESS) {
    return TssError(rc, fmt::format("Quote with the key at 0x{:08x}", ak_handle));
  }
  if (sig->sigAlg != TPM2_ALG_RSASSA) {
    return absl::FailedPreconditionError(fmt::format(
        "tpm: the key at 0x{:08x} signed with algorithm 0x{:04x}, expected RSASSA (0x0014)",
        ak_handle, sig->sigAlg));
  }
  TpmQuoteResult q;
  q.message.assign(reinterpret_cast<const char*>(quoted->attestationData), quoted->size);
  q.signature.assign(reinterpret_cast<const char*>(sig->signature.rsassa.sig.buffer),
                     sig->signature.rsassa.sig.size);
  CCB_ASSIGN_OR_RETURN(q.pcrs, ReadPcrs());
  return q;
}

absl::StatusOr<TpmQuoteResult> Tpm::Quote(uint32_t ak_handle, std::string_view qualifying_data) {
  if (qualifying_data.size() > kMaxQualifyingData) {
    return absl::InvalidArgumentError(fmt::format("tpm: qualifying data is {} bytes, at most {}",
                                                  qualifying_data.size(), kMaxQualifyingData));
  }
  absl::Status last;
  for (int attempt = 0; attempt < kQuoteAttempts; ++attempt) {
    CCB_ASSIGN_OR_RETURN(TpmQuoteResult q, QuoteOnce(ak_handle, qualifying_data));
    CCB_ASSIGN_OR_RETURN(az::QuoteAttest attest, az::ParseQuoteAttest(q.message),
                         "tpm: the TPM's quote");
    last = az::CheckPcrs(attest, q.pcrs);
    if (last.ok()) return q;
  }
  return absl::UnavailableError(
      fmt::format("tpm: PCRs kept changing while quoting ({} attempts): {}", kQuoteAttempts,
                  core::Message(last)));
}

absl::Status Tpm::ExtendPcr(uint32_t index, std::string_view digest) {
  if (index >= az::kPcrCount || digest.size() != az::kPcrSize) {
    return absl::InvalidArgumentError(
        fmt::format("tpm: PCR_Extend takes PCR 0..23 and a 32-byte digest, got PCR{} and {} bytes",
                    index, digest.size()));
  }
  TPML_DIGEST_VALUES values{};
  values.count = 1;
  values.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::copy(digest.begin(), digest.end(), reinterpret_cast<char*>(values.digests[0].digest.sha256));
  TSS2_RC rc = Esys_PCR_Extend(impl_->esys, ESYS_TR_PCR0 + index, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                               ESYS_TR_NONE, &values);
  if (rc != TSS2_RC_SUCCESS) return TssError(rc, fmt::format("PCR_Extend of PCR{}", index));
  return absl::OkStatus();
}

}  // namespace ccburst::agent::vtpm
