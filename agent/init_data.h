// The init-data a confidential pod is started with, as the guest reads it: the TOML document
// (`version`, `algorithm` sha256/sha384/sha512, `[data]` with `aa.toml`, `cdh.toml`,
// `policy.rego`) that kata passes to the guest and the hardware binds by digest (TDX MRCONFIGID,
// SNP HOST_DATA, vTPM PCR8). The agent takes the KBS URL and certificate from `cdh.toml`'s
// `[kbc]` table (`url`, `kbs_cert`) as the reference CDH does, falling back to `aa.toml`'s
// `[token_configs.kbs]` (`url`, `cert`), checks the digest against its TEE before it runs, and
// sends the raw text in /attest so that the KBS binds it too.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/hash.h"

namespace ccburst::agent {

struct InitData {
  std::string toml;  // the raw text, hashed and sent as is
  crypto::HashAlg algorithm;
  std::string digest;  // algorithm(toml)
  std::optional<std::string> kbs_url;
  std::optional<std::string> kbs_cert;  // PEM
};

// Parses init-data the way the KBS does (attestation/init_data.h; its errors, InvalidArgument
// "init-data: ..."), then reads the KBS settings; a `kbc.url` or `kbs_cert` that is not a
// string is InvalidArgument "init-data: `cdh.toml` kbc.url must be a string".
absl::StatusOr<InitData> ParseInitData(std::string_view toml_text);

}  // namespace ccburst::agent
