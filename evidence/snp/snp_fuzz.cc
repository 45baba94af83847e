// libFuzzer target for the SEV-SNP parsers: the first input byte selects the raw report parser,
// the certificate-table parser or the evidence JSON parser (both forms); the rest is the input.
// Every input must give a value or a status, never a crash; parsed results must be consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "evidence/snp/evidence.h"
#include "evidence/snp/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ccburst::evidence::snp;
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto r = ParseReport(in);
      if (r.ok()) {
        if (in.size() != kReportSize || r->bytes != in) std::abort();
        (void)SignatureRawBigEndian(*r);
      }
      break;
    }
    case 1: {
      auto certs = ParseCertTable(in);
      if (certs.ok()) {
        for (const EvidenceCert& c : *certs) {
          if (c.data.empty() || c.data.size() > in.size()) std::abort();
        }
        auto again = ParseCertTable(EncodeCertTable(*certs));
        if (!again.ok()) std::abort();
      }
      break;
    }
    default: {
      auto ev = ParseEvidenceBytes(in);
      if (ev.ok() && ev->report.bytes.size() != kReportSize) std::abort();
      break;
    }
  }
  return 0;
}
