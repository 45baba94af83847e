// Init-data: the TOML document (`version`, `algorithm`, `data`) that a confidential pod is started
// with and that the hardware binds by digest (TDX MRCONFIGID, SNP HOST_DATA, a PCR). The
// attestation service hashes the raw text to get the expected digest and turns `data` into the
// `init_data_claims` that policies read.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/hash.h"

namespace ccburst::attestation {

struct InitData {
  crypto::HashAlg algorithm;
  // algorithm(raw TOML bytes).
  std::string digest;
  // The `data` table: each member is a string, except that `cdh.toml` and `aa.toml` become JSON
  // when they are valid TOML, and `policy.rego` is replaced by `agent_policy_claims` (the JSON of
  // its `policy_data := {...}`) when that can be extracted — as the reference service does.
  boost::json::object claims;
};

// Parses init-data TOML text. Errors are InvalidArgument: "init-data: <toml error> at line L,
// column C", "init-data: missing `algorithm`", "init-data: unsupported algorithm `md5`",
// "init-data: `data.x` must be a string".
absl::StatusOr<InitData> ParseInitData(std::string_view toml_text);

}  // namespace ccburst::attestation
