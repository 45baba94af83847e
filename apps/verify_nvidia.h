// `ccburst verify --tee nvidia`: offline verification of NVIDIA Hopper GPU device evidence
// (evidence/nvidia) for operators: an SPDM report with its device certificate chain against the
// shipped NVIDIA Device Identity CA and an expected nonce, or (without --evidence) a certificate
// chain alone, optionally against an expected FWID.
#pragma once

#include <string>

namespace ccburst::apps {

struct NvidiaVerifyArgs {
  std::string evidence_file;  // the report: raw bytes or hex text; empty: check the chain only
  std::string cert_chain;     // PEM chain file, leaf first (required)
  std::string nonce_hex;      // expected SPDM nonce (report data; first 32 bytes used)
  std::string fwid_hex;       // chain only: the FWID the leaf must carry
  std::string trusted_root;   // PEM root instead of NVIDIA's (test hierarchies)
  std::string at;             // RFC 3339; empty means now
  bool json = false;
};

// Prints the verdict (human: the verdict line, the report facts, the measurements, the opaque
// data and the claims; --json: {verified, tee, result, failed_check, report, measurements,
// opaque_data, claims, checks, error}) with `result` "valid" or "invalid-<check>" as
// ../shared/testdata/nvidia names them. Returns 0 verified, 1 not, 2 usage.
int VerifyNvidia(const NvidiaVerifyArgs& args);

}  // namespace ccburst::apps
