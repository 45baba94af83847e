#include "evidence/nvidia/ocsp.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include <ctime>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/openssl.h"
#include "crypto/random.h"

namespace ccburst::evidence::nvidia {
namespace {

using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, crypto::OpensslDeleter<OCSP_REQUEST_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, crypto::OpensslDeleter<OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, crypto::OpensslDeleter<OCSP_BASICRESP_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, crypto::OpensslDeleter<OCSP_CERTID_free>>;

constexpr size_t kNonceBytes = 32;

std::string Der(OCSP_REQUEST* req) {
  unsigned char* out = nullptr;
  int n = i2d_OCSP_REQUEST(req, &out);
  if (n <= 0) return {};
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  OPENSSL_free(out);
  return der;
}

std::string Der(OCSP_CERTID* id) {
  unsigned char* out = nullptr;
  int n = i2d_OCSP_CERTID(id, &out);
  if (n <= 0) return {};
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  OPENSSL_free(out);
  return der;
}

OcspCertIdPtr CertId(const crypto::Certificate& cert, const crypto::Certificate& issuer) {
  return OcspCertIdPtr(OCSP_cert_to_id(EVP_sha384(), cert.get(), issuer.get()));
}

std::optional<core::TimePoint> Time(const ASN1_GENERALIZEDTIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string Who(const crypto::Certificate& cert) {
  return cert.subject_cn().empty() ? fmt::format("serial {}", cert.serial_hex())
                                   : cert.subject_cn();
}

}  // namespace

std::string_view OcspCertStatusName(OcspCertStatus status) {
  switch (status) {
    case OcspCertStatus::kGood:
      return "good";
    case OcspCertStatus::kRevoked:
      return "revoked";
    case OcspCertStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

absl::StatusOr<OcspRequest> MakeOcspRequest(const crypto::Certificate& cert,
                                            const crypto::Certificate& issuer, bool nonce) {
  OcspRequestPtr req(OCSP_REQUEST_new());
  OcspCertIdPtr id = CertId(cert, issuer);
  if (req == nullptr || id == nullptr) return absl::InternalError("ocsp: cannot build a CertID");
  OcspRequest out;
  out.key = core::HexEncode(crypto::Sha256(Der(id.get())));
  // The request owns the CertID once added.
  if (OCSP_request_add0_id(req.get(), id.get()) == nullptr) {
    return absl::InternalError("ocsp: cannot add the CertID to the request");
  }
  id.release();
  if (nonce) {
    out.nonce = crypto::RandomBytes(kNonceBytes);
    if (OCSP_request_add1_nonce(req.get(), reinterpret_cast<unsigned char*>(out.nonce.data()),
                                static_cast<int>(out.nonce.size())) != 1) {
      return absl::InternalError("ocsp: cannot add the nonce to the request");
    }
  }
  out.der = Der(req.get());
  if (out.der.empty()) return absl::InternalError("ocsp: cannot encode the request");
  // The nonce extension's value as OpenSSL encodes it (an OCTET STRING), for the echo check.
  if (nonce) {
    int at = OCSP_REQUEST_get_ext_by_NID(req.get(), NID_id_pkix_OCSP_Nonce, -1);
    X509_EXTENSION* ext = at < 0 ? nullptr : OCSP_REQUEST_get_ext(req.get(), at);
    const ASN1_OCTET_STRING* v = ext == nullptr ? nullptr : X509_EXTENSION_get_data(ext);
    if (v == nullptr) return absl::InternalError("ocsp: cannot read back the nonce");
    out.nonce.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)),
                     static_cast<size_t>(ASN1_STRING_length(v)));
  }
  return out;
}

absl::StatusOr<OcspStatus> VerifyOcspResponse(
    std::string_view der, const OcspRequest& request, const crypto::Certificate& cert,
    std::span<const std::shared_ptr<const crypto::Certificate>> issuer_chain, core::TimePoint now) {
  if (issuer_chain.empty()) return absl::InvalidArgumentError("ocsp: no issuer");
  const crypto::Certificate& issuer = *issuer_chain.front();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (resp == nullptr || p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return absl::InvalidArgumentError("ocsp: malformed response");
  }
  if (int s = OCSP_response_status(resp.get()); s != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return absl::PermissionDeniedError(
        fmt::format("ocsp: responder answered `{}`", OCSP_response_status_str(s)));
  }
  OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
  if (basic == nullptr) return absl::InvalidArgumentError("ocsp: malformed response");

  // The signer must chain to the anchor at the verification time, and be the issuer itself or a
  // responder the issuer delegated to (no fallback to "the root is trusted for OCSP signing").
  crypto::X509StorePtr store(X509_STORE_new());
  crypto::X509StackPtr untrusted(sk_X509_new_null());
  if (store == nullptr || untrusted == nullptr ||
      X509_STORE_add_cert(store.get(), issuer_chain.back()->get()) != 1) {
    return absl::InternalError("ocsp: cannot build the trust store");
  }
  for (const auto& c : issuer_chain) sk_X509_push(untrusted.get(), c->get());
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()),
                             std::chrono::system_clock::to_time_t(now));
  if (OCSP_basic_verify(basic.get(), untrusted.get(), store.get(), OCSP_NOEXPLICIT) != 1) {
    ERR_clear_error();
    return absl::PermissionDeniedError(fmt::format(
        "ocsp: response signature does not verify with `{}` or a responder it delegated to",
        Who(issuer)));
  }

  if (!request.nonce.empty()) {
    int at = OCSP_BASICRESP_get_ext_by_NID(basic.get(), NID_id_pkix_OCSP_Nonce, -1);
    X509_EXTENSION* ext = at < 0 ? nullptr : OCSP_BASICRESP_get_ext(basic.get(), at);
    const ASN1_OCTET_STRING* v = ext == nullptr ? nullptr : X509_EXTENSION_get_data(ext);
    if (v == nullptr) return absl::PermissionDeniedError("ocsp: response carries no nonce");
    std::string_view got(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)),
                         static_cast<size_t>(ASN1_STRING_length(v)));
    if (got != request.nonce) {
      return absl::PermissionDeniedError("ocsp: response nonce is not the request's");
    }
  }

  OcspCertIdPtr id = CertId(cert, issuer);
  if (id == nullptr) return absl::InternalError("ocsp: cannot build a CertID");
  int status = -1, reason = -1;
  ASN1_GENERALIZEDTIME *revtime = nullptr, *thisupd = nullptr, *nextupd = nullptr;
  if (OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revtime, &thisupd,
                            &nextupd) != 1) {
    return absl::PermissionDeniedError(
        fmt::format("ocsp: response has no status for certificate `{}`", Who(cert)));
  }
  OcspStatus out;
  std::optional<core::TimePoint> this_update = Time(thisupd);
  if (!this_update) return absl::InvalidArgumentError("ocsp: malformed thisUpdate");
  out.this_update = *this_update;
  if (nextupd != nullptr) {
    std::optional<core::TimePoint> next_update = Time(nextupd);
    if (!next_update) return absl::InvalidArgumentError("ocsp: malformed nextUpdate");
    out.next_update = *next_update;
  } else {
    out.next_update = out.this_update + kOcspDefaultValidity;
  }
  if (out.this_update > now + kOcspSkew) {
    return absl::PermissionDeniedError(
        fmt::format("ocsp: response thisUpdate {} is after the verification time {}",
                    core::FormatRfc3339(out.this_update), core::FormatRfc3339(now)));
  }
  if (now > out.next_update) {
    return absl::PermissionDeniedError(
        fmt::format("ocsp: response expired: nextUpdate {} is before the verification time {}",
                    core::FormatRfc3339(out.next_update), core::FormatRfc3339(now)));
  }
  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD:
      out.status = OcspCertStatus::kGood;
      break;
    case V_OCSP_CERTSTATUS_REVOKED: {
      out.status = OcspCertStatus::kRevoked;
      out.revoked_at = Time(revtime);
      out.reason = reason;
      break;
    }
    default:
      out.status = OcspCertStatus::kUnknown;
  }
  return out;
}

absl::StatusOr<boost::json::object> CheckChainOcsp(const OcspSource& source,
                                                   const VerifiedChain& chain, core::TimePoint now,
                                                   bool* skip) {
  boost::json::object claim;
  std::string error;
  for (size_t i = 1; i + 1 < chain.certs.size() && error.empty(); ++i) {
    const crypto::Certificate& cert = *chain.certs[i];
    if (skip != nullptr && *skip) {
      error = fmt::format(
          "certificate `{}`: not asked: the responder was unavailable earlier in "
          "this request",
          Who(cert));
      break;
    }
    absl::StatusOr<OcspStatus> s = source.CertStatus(chain, i, now);
    if (!s.ok()) {
      if (absl::IsUnavailable(s.status()) && skip != nullptr) *skip = true;
      error = fmt::format("certificate `{}`: {}", Who(cert), core::Message(s.status()));
      break;
    }
    if (s->status == OcspCertStatus::kRevoked) {
      std::string at = s->revoked_at ? core::FormatRfc3339(*s->revoked_at) : "an unknown time";
      return absl::PermissionDeniedError(
          fmt::format("ocsp: certificate `{}` revoked at {}{}", Who(cert), at,
                      s->reason >= 0 ? fmt::format(" (reason {})", s->reason) : ""));
    }
    if (s->status == OcspCertStatus::kUnknown) {
      error = fmt::format("certificate `{}`: status unknown at the responder", Who(cert));
    }
  }
  if (error.empty()) {
    claim["status"] = "good";
  } else {
    claim["status"] = "unknown";
    claim["error"] = error;
  }
  return claim;
}

}  // namespace ccburst::evidence::nvidia
