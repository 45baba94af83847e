// SEV-SNP evidence as it arrives at the KBS, in the two accepted forms:
//  - the reference (Trustee) attester's JSON: {"attestation_report": {...}, "cert_chain":
//    [{"cert_type":"VCEK"|"VLEK"|"ASK"|"ARK", "data":[...DER bytes...]}] | null}, where the report
//    is the sev crate's serde form (every byte array a JSON array of integers, TCBs decoded);
//  - ccburst's own agent (Linux configfs-tsm): {"report":"<std base64 1184 bytes>",
//    "auxblob":"<std base64 certificate table>" | null};
// plus a raw 1184-byte report for the operator command. The Trustee form is re-encoded into the
// exact report bytes (reserved bytes zero), so both forms go through the same signature check.
//
// The certificate table (GHCB spec, "SNP_GUEST_REQUEST ... certificate table"; Linux auxblob) is a
// list of 24-byte entries {GUID (16 bytes, RFC 4122 byte order), u32 offset, u32 length}
// (little-endian) ended by an all-zero entry; offsets are from the start of the table.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "evidence/snp/report.h"

namespace ccburst::evidence::snp {

enum class CertKind { kVcek, kVlek, kAsk, kArk, kCrl, kOther };
std::string_view CertKindName(CertKind k);

// A certificate carried in the evidence, DER or PEM as the sender put it.
struct EvidenceCert {
  CertKind kind = CertKind::kOther;
  std::string data;
  // Supplied by the operator (certificate directory) rather than carried in the evidence: a CA
  // certificate for another processor generation is then skipped instead of refused.
  bool supplied = false;
};

struct Evidence {
  Report report;
  std::vector<EvidenceCert> certs;
};

// Parses a certificate table. Entries with unknown GUIDs are returned as kOther. A table without
// a terminating zero entry, an entry pointing outside the table, or a length-zero certificate is
// InvalidArgument naming the entry.
absl::StatusOr<std::vector<EvidenceCert>> ParseCertTable(std::string_view table);
// Builds a table (header, zero terminator, then the certificates in order). kOther entries are
// skipped.
std::string EncodeCertTable(const std::vector<EvidenceCert>& certs);

// Parses the `primary_evidence` JSON in either form; anything else is InvalidArgument.
absl::StatusOr<Evidence> ParseEvidenceJson(const boost::json::value& evidence);
// Operator input: a raw 1184-byte report, or the JSON text of either evidence form.
absl::StatusOr<Evidence> ParseEvidenceBytes(std::string_view bytes);

// The Trustee JSON form of a report (what the reference attester sends), for tests and tools.
boost::json::object ReportToTrusteeJson(const Report& report);

}  // namespace ccburst::evidence::snp
