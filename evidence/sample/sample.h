// The `sample` TEE: a software-only stand-in for hardware used in development and tests, wire
// compatible with the reference (Trustee) sample attester and verifier. Its evidence is
// `{"svn":"<string>","report_data":"<standard base64 of the binding digest>"}`; nothing is signed,
// so only the binding is checked and the claims are fixed apart from `svn` and `report_data`.
// Policies must never trust it for real secrets (the default resource policy refuses it).
#pragma once

#include <memory>

#include "evidence/verifier.h"

namespace ccburst::evidence {

// Checks that `svn` is a string and that `report_data` is padded standard base64 of exactly
// `binding.report_data_digest`. Claims:
// {"svn","report_data","launch_digest":"abcde","platform_version":{"major":1,"minor":4},
//  "debug":false} plus "init_data" (standard base64 of the init-data digest) when the binding
// has one; the sample TEE cannot carry init-data, so that digest is reported, not checked.
std::unique_ptr<Verifier> NewSampleVerifier();

}  // namespace ccburst::evidence
