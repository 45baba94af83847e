// Evidence collection inside the TEE. An Attester turns the 48/64-byte report-data digest that
// binds a KBS session into the TEE-specific `primary_evidence` JSON. The sample attester is the
// development TEE of the reference stack (no hardware); the hardware attesters (configfs-tsm for
// TDX/SNP, Azure vTPM) are in agent/attesters.h.
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
  // Checks that the TEE measured the init-data whose digest is `digest` (TDX MRCONFIGID, SNP
  // HOST_DATA, vTPM PCR8), so the agent refuses to run with init-data the KBS would not bind.
  // PermissionDenied naming the field on a mismatch. The default is Unimplemented: a TEE that
  // cannot bind init-data must say so.
  virtual absl::Status CheckInitData(std::string_view digest) const;
};

// {"svn":"<svn>","report_data":"<standard base64 of the digest>"}
std::unique_ptr<Attester> NewSampleAttester(std::string svn = "1");

}  // namespace ccburst::agent
