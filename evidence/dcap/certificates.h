// X.509 certificate chain and CRL checks for Intel's DCAP PKI, at an explicit verification
// time: the PCK chain embedded in quotes, the TCB signing chain of TCB Info / QE Identity, and
// the Root CA and PCK CRLs. The trust anchor is a public key: a chain is accepted when it ends
// in a self-signed certificate carrying exactly that key. OpenSSL objects are owned by
// std::unique_ptr with deleters.
#pragma once

#include <openssl/x509.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/key.h"

namespace ccburst::evidence::dcap {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct X509CrlDeleter {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using X509CrlPtr = std::unique_ptr<X509_CRL, X509CrlDeleter>;

// The root public key that every DCAP chain must end in.
class TrustAnchor {
 public:
  // The Intel SGX Root CA key, pinned in the source.
  static const TrustAnchor& IntelSgxRootCa();
  // Any key (test hierarchies).
  explicit TrustAnchor(crypto::PublicKey key) : key_(std::move(key)) {}
  const crypto::PublicKey& key() const { return key_; }

 private:
  crypto::PublicKey key_;
};

// PEM certificates in order; InvalidArgument "<what>: ..." when none parse or garbage follows.
absl::StatusOr<std::vector<X509Ptr>> ParsePemChain(std::string_view pem, std::string_view what);
// Decoded certificates and CRLs keyed by their exact encoding (a certificate's PEM block, a
// CRL's bytes), so that each distinct certificate or CRL is decoded once, not once per use or
// per verification: OpenSSL 3's public-key decoding in d2i_X509 costs about as much as a P-256
// signature check. Only decoding is shared, never a verification result: callers still verify
// every chain, signature, validity period and revocation. The decoded objects are immutable
// (OpenSSL locks its lazily computed caches), so they are shared between threads. Thread-safe;
// bounded by entries and by encoded bytes, since PCK chains come from untrusted quotes (a table
// is cleared when full; an encoding larger than an eighth of the byte budget is not kept).
class CertPool {
 public:
  explicit CertPool(size_t max_entries = 256, size_t max_bytes = size_t{8} << 20)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}
  // The process-wide pool, used where a caller passes none.
  static CertPool& Shared();
  // As ParsePemChain.
  absl::StatusOr<std::vector<std::shared_ptr<X509>>> Parse(std::string_view pem,
                                                           std::string_view what);
  // As ParseCrl.
  absl::StatusOr<std::shared_ptr<X509_CRL>> Crl(std::string_view bytes, std::string_view what);

 private:
  // Makes room for an encoding of `size` bytes in a table holding `*bytes`; false when it is
  // too large to keep.
  template <typename Map>
  bool MakeRoom(Map& table, size_t* bytes, size_t size);

  size_t max_entries_;
  size_t max_bytes_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<X509>, std::less<>> certs_;
  std::map<std::string, std::shared_ptr<X509_CRL>, std::less<>> crls_;
  size_t cert_bytes_ = 0;
  size_t crl_bytes_ = 0;
};

// A CRL in DER (as Intel PCS serves it) or PEM.
absl::StatusOr<X509CrlPtr> ParseCrl(std::string_view bytes, std::string_view what);
// Shared references (X509_up_ref) for caching.
X509Ptr CopyCert(X509* cert);

// Verifies `chain` (leaf first, last = self-signed root) at `now`: the root's key equals the
// anchor, every signature and validity period, CA constraints. PermissionDenied
// "<what>: <reason>" on failure.
absl::Status VerifyChain(const std::vector<X509*>& chain, const TrustAnchor& anchor,
                         core::TimePoint now, std::string_view what);

// Checks `crl` against its issuing certificate at `now`: issuer name, signature, thisUpdate <=
// now < nextUpdate. PermissionDenied "<what>: ..." naming the failed check ("pck crl: expired
// (nextUpdate 2025-07-19T10:00:35Z)").
absl::Status CheckCrl(X509_CRL* crl, X509* issuer, core::TimePoint now, std::string_view what);
// True when `crl` lists `cert`'s serial number.
bool IsRevoked(X509_CRL* crl, X509* cert);

// Validity bounds for error messages and expiry reporting.
core::TimePoint NotAfter(X509* cert);
core::TimePoint NotBefore(X509* cert);
core::TimePoint CrlNextUpdate(X509_CRL* crl);
core::TimePoint CrlThisUpdate(X509_CRL* crl);
// The common name of the subject / issuer ("Intel SGX PCK Platform CA"); empty if absent.
std::string SubjectCommonName(X509* cert);
std::string IssuerCommonName(X509* cert);
// The certificate's public key.
absl::StatusOr<crypto::PublicKey> CertPublicKey(X509* cert);

}  // namespace ccburst::evidence::dcap
