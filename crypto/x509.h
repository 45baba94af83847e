// X.509 certificate creation for local TLS: a self-signed certificate that doubles as its own
// trust anchor, so `ccburst-kbs` can serve HTTPS out of the box and tests can pin the cert.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/key.h"

namespace ccburst::crypto {

// A PEM X.509 v3 certificate for `key`, signed by itself: subject = issuer = CN=`common_name`,
// random positive 128-bit serial, validity [not_before, not_after], extensions basicConstraints
// CA:TRUE (critical), keyUsage digitalSignature+keyCertSign(+keyEncipherment for RSA),
// extendedKeyUsage serverAuth+clientAuth, subjectKeyIdentifier, and subjectAltName with each of
// `subject_alt_names` as an IP address when it parses as an IPv4/IPv6 literal and a DNS name
// otherwise. Signed with SHA-256 (EC, RSA) or pure Ed25519. Empty or malformed names, or
// not_after before not_before, are InvalidArgument.
absl::StatusOr<std::string> MakeSelfSignedCertificate(
    const PrivateKey& key, const std::string& common_name,
    const std::vector<std::string>& subject_alt_names, core::TimePoint not_before,
    core::TimePoint not_after);

}  // namespace ccburst::crypto
