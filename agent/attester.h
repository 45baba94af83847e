// Evidence collection inside the TEE. An Attester turns the 48/64-byte report-data digest that
// binds a KBS session into the TEE-specific `primary_evidence` JSON. The sample attester is the
// development TEE of the reference stack (no hardware); hardware attesters (configfs-tsm for
// TDX/SNP, Azure vTPM) arrive with their own issues.
#pragma once

#include <memory>
#include <string>

#include "core/json.h"
#include "core/status.h"

namespace ccburst::agent {

class Attester {
 public:
  virtual ~Attester() = default;
  virtual std::string tee() const = 0;
  // Evidence whose report data is `report_data` (the raw binding digest).
  virtual absl::StatusOr<core::json::value> Evidence(std::string_view report_data) const = 0;
};

// {"svn":"<svn>","report_data":"<standard base64 of the digest>"}
std::unique_ptr<Attester> NewSampleAttester(std::string svn = "1");

}  // namespace ccburst::agent
