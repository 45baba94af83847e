// Throwaway X.509 material for net tests and benchmarks: a self-signed EC P-256 CA and a server
// certificate for localhost / 127.0.0.1 / ::1 issued by it, written as PEM files. Built with
// OpenSSL directly so that net does not depend on the crypto module.
#pragma once

#include <string>

#include "core/status.h"

namespace ccburst::net::testing {

struct TestPki {
  std::string ca_file;           // CA certificate (PEM)
  std::string certificate_file;  // server certificate (PEM), SANs localhost, 127.0.0.1, ::1
  std::string private_key_file;  // server key (PEM, PKCS#8)
};

// Creates `directory` if needed and writes ca.pem, server.pem and server.key into it; the server
// certificate carries `subject_alt_names` (OpenSSL config syntax). Errors are kInternal with the
// OpenSSL or file-system reason.
absl::StatusOr<TestPki> CreateTestPki(
    const std::string& directory,
    const std::string& subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1");

}  // namespace ccburst::net::testing
