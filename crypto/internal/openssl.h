// OpenSSL ownership and error helpers shared by the crypto module's implementation files. Not part
// of the public API: other modules use the value types in crypto/*.h instead of raw OpenSSL.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ccburst::crypto::internal {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, Deleter<EVP_CIPHER_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;

// The reason of the most recent OpenSSL error (or "unknown error"); clears the thread's error
// queue so a failure never leaks into an unrelated later call.
std::string OpensslError();

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
