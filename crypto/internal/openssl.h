// OpenSSL helpers private to the crypto module's implementation files (memory BIOs, fatal
// errors, small files). The ownership types and the error helper are public in crypto/openssl.h.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/openssl.h"

namespace ccburst::crypto::internal {

// The public RAII aliases and error helper (crypto/openssl.h), under their historical names here.
using crypto::BioPtr;
using crypto::BnPtr;
using crypto::CipherCtxPtr;
using crypto::CipherPtr;
using crypto::EcdsaSigPtr;
using crypto::MdCtxPtr;
using crypto::OpensslError;
using crypto::ParamBldPtr;
using crypto::ParamPtr;
using crypto::PkeyCtxPtr;
using crypto::PkeyPtr;
using crypto::X509Ptr;

// A read-only memory BIO over `data`; the view must outlive the BIO.
BioPtr MemBio(std::string_view data);

// Everything written into a memory BIO.
std::string BioContents(BIO* bio);

// Raises an unrecoverable error for failures that only happen when the process is out of memory
// or the RNG is broken; the message names the operation.
[[noreturn]] void Fatal(const char* what);

// Reads a whole (small) file; missing file is NotFound, larger than `max_size` InvalidArgument.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_size,
                                          std::string_view what);

}  // namespace ccburst::crypto::internal
