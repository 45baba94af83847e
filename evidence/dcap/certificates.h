// X.509 certificate chain and CRL checks for Intel's DCAP PKI, at an explicit verification
// time: the PCK chain embedded in quotes, the TCB signing chain of TCB Info / QE Identity, and
// the Root CA and PCK CRLs. The trust anchor is a public key: a chain is accepted when it ends
// in a self-signed certificate carrying exactly that key. Certificates and CRLs are the shared,
// immutable crypto::Certificate / crypto::Crl, decoded through an injected
// crypto::CertificateCache.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/certificate.h"
#include "crypto/key.h"

namespace ccburst::evidence::dcap {

using CertPtr = std::shared_ptr<const crypto::Certificate>;
using CrlPtr = std::shared_ptr<const crypto::Crl>;

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

// PEM certificates in order, decoded through `cache`; InvalidArgument "<what>: certificate <n>
// is not valid PEM" (also for anything but whitespace around the blocks) or "<what>: no PEM
// certificate".
absl::StatusOr<std::vector<CertPtr>> ParsePemChain(std::string_view pem, std::string_view what,
                                                   crypto::CertificateCache& cache);

// Verifies `chain` (leaf first, last = self-signed root) at `now`: the root's key equals the
// anchor, every signature and validity period, CA constraints. PermissionDenied
// "<what>: <reason>" on failure.
absl::Status VerifyChain(const std::vector<const crypto::Certificate*>& chain,
                         const TrustAnchor& anchor, core::TimePoint now, std::string_view what);

// Checks `crl` against its issuing certificate at `now`: issuer name, signature, thisUpdate <=
// now < nextUpdate. PermissionDenied "<what>: ..." naming the failed check ("pck crl: expired
// (nextUpdate 2025-07-19T10:00:35Z)").
absl::Status CheckCrl(const crypto::Crl& crl, const crypto::Certificate& issuer,
                      core::TimePoint now, std::string_view what);

// A CRL's nextUpdate, or the end of time when it has none.
inline core::TimePoint CrlNextUpdate(const crypto::Crl& crl) {
  return crl.next_update().value_or(core::TimePoint::max());
}

// The certificate's public key; InvalidArgument when its type is not supported.
absl::StatusOr<crypto::PublicKey> CertPublicKey(const crypto::Certificate& cert);

}  // namespace ccburst::evidence::dcap
