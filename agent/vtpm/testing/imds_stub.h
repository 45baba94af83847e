// Test-only stand-in for the two Azure IMDS endpoints the vTPM attesters call, backed by the TDX
// and SNP test hierarchies: POST /acc/tdquote turns the posted TDREPORT into a TD quote whose
// report data is the TDREPORT's REPORTDATA and whose TD attributes, MRTD, MRCONFIGID and RTMRs
// are the TDREPORT's TDINFO (what the quoting enclave does: a tampered TD is quoted as it is), and
// GET
// /metadata/THIM/amd/certification answers the SNP hierarchy's VCEK. Either hierarchy may be
// null (its endpoint then answers 404). Never link into production binaries.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/tdx/testing/quote_generator.h"
#include "net/http_server.h"

namespace ccburst::agent::vtpm::testing {

// Serves on `listen` ("127.0.0.1:0" for an ephemeral port; see HttpServer::ports()). The
// hierarchies must outlive the server.
absl::StatusOr<std::unique_ptr<net::HttpServer>> StartImdsStub(
    const evidence::tdx::testing::TdxTestHierarchy* tdx,
    const evidence::snp::testing::TestHierarchy* snp, const std::string& listen = "127.0.0.1:0");

}  // namespace ccburst::agent::vtpm::testing
