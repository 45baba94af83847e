// Test-only: RSA key generation takes a good fraction of a second, so tests share a few cached
// RSA keys instead of generating one per case.
#pragma once

#include <cctype>
#include <ostream>
#include <string>

#include "crypto/key.h"

namespace ccburst::crypto::testing {

// The `index`-th (0..3) process-wide cached 2048-bit RSA test key.
inline const PrivateKey& CachedRsaKey(int index = 0) {
  static const PrivateKey* keys[4] = {};
  if (keys[index] == nullptr) keys[index] = new PrivateKey(PrivateKey::GenerateRsa());
  return *keys[index];
}

// A gtest-friendly name for a KeyType parameter ("ECP256", "Ed25519", "RSA").
inline std::string KeyTypeParamName(KeyType type) {
  std::string name;
  for (char c : KeyTypeName(type)) {
    if (std::isalnum(static_cast<unsigned char>(c))) name += c;
  }
  return name;
}

}  // namespace ccburst::crypto::testing

namespace ccburst::crypto {
// Lets gtest print KeyType parameters by name.
inline void PrintTo(KeyType type, std::ostream* os) { *os << KeyTypeName(type); }
}  // namespace ccburst::crypto
