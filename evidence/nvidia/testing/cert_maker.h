// Test-only: the certificate maker the NVIDIA test device CA and the test RIM CA share.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "crypto/key.h"

namespace ccburst::evidence::nvidia::testing {

struct CertSpec {
  std::string subject_cn, issuer_cn;
  const crypto::PrivateKey* subject_key;
  const crypto::PrivateKey* issuer_key;
  core::TimePoint not_before, not_after;
  bool ca = false;
  std::string fwid_extension;  // raw value; empty: none
};

// A DER certificate (O=NVIDIA Corporation, CN as given; CA: basicConstraints CA and keyCertSign,
// otherwise digitalSignature), signed with SHA-384 by `issuer_key`. Aborts on an OpenSSL failure.
std::string MakeCert(const CertSpec& spec);
// One PEM CERTIFICATE block.
std::string Pem(std::string_view der);

}  // namespace ccburst::evidence::nvidia::testing
