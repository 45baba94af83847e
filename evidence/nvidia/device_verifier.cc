#include "evidence/nvidia/device_verifier.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/log_safe.h"

namespace ccburst::evidence::nvidia {

absl::StatusOr<std::unique_ptr<NvidiaDeviceVerifier>> NvidiaDeviceVerifier::Create(
    NvidiaDeviceVerifierOptions options) {
  CCB_ASSIGN_OR_RETURN(auto verifier, NvidiaVerifier::Create(std::move(options.verifier)));
  std::unique_ptr<NvidiaDeviceVerifier> v(
      new NvidiaDeviceVerifier(std::move(verifier), options.max_devices));
  if (options.rim_source) {
    RimVerifierOptions rim;
    rim.trust_anchors = std::move(options.rim_trust_anchors);
    CCB_ASSIGN_OR_RETURN(v->rim_verifier_, RimVerifier::Create(std::move(rim)));
    v->rim_source_ = std::move(options.rim_source);
  }
  v->ocsp_source_ = std::move(options.ocsp_source);
  return v;
}

boost::json::object NvidiaDeviceVerifier::RimClaim(const boost::json::object& claims,
                                                   core::TimePoint now) const {
  boost::json::object out;
  std::vector<std::string> ids = DeviceRimIds(claims.at("config").as_object());
  boost::json::array id_list;
  for (const auto& id : ids) id_list.emplace_back(id);
  out["ids"] = std::move(id_list);
  boost::json::object golden;
  for (const std::string& id : ids) {
    auto xml = rim_source_->FetchRim(id);
    absl::StatusOr<Rim> rim = xml.ok() ? rim_verifier_->Verify(*xml, now) : xml.status();
    absl::Status merged = rim.ok()
                              ? MergeReferenceMeasurements(golden, RimReferenceMeasurements(*rim))
                              : rim.status();
    if (!merged.ok()) {
      out["error"] = fmt::format("{}: {}", id, core::Message(merged));
      return out;
    }
  }
  if (golden.empty()) {
    out["error"] = "no golden measurements (no RIM ID for this device)";
    return out;
  }
  const boost::json::object& measured = claims.at("measurements").as_object();
  boost::json::array mismatched;
  for (const auto& [index, want] : golden) {
    const boost::json::value* got = measured.if_contains(index);
    bool ok = got != nullptr &&
              (want.is_string() ? *got == want
                                : std::find(want.as_array().begin(), want.as_array().end(), *got) !=
                                      want.as_array().end());
    if (!ok) mismatched.emplace_back(std::string_view(index));
  }
  out["measurements_match"] = mismatched.empty();
  out["mismatched_indices"] = std::move(mismatched);
  return out;
}

absl::StatusOr<std::vector<boost::json::object>> NvidiaDeviceVerifier::Verify(
    const boost::json::value& evidence, std::string_view device_binding,
    core::TimePoint now) const {
  CCB_ASSIGN_OR_RETURN(std::vector<DeviceEvidence> devices,
                       ParseDeviceEvidenceList(evidence, max_devices_));
  const std::string nonce = ExpectedNonce(device_binding);
  std::vector<boost::json::object> claims;
  // Set once the OCSP responder is Unavailable: the request's other certificates are not asked.
  bool ocsp_skip = false;
  for (size_t i = 0; i < devices.size(); ++i) {
    auto refuse = [&](const absl::Status& status) {
      std::string message = core::Message(status);
      if (message.starts_with("nvidia: ")) message = message.substr(8);
      std::string who = devices[i].uuid
                            ? fmt::format("device {} ({})", i, core::LogSafe(*devices[i].uuid, 64))
                            : fmt::format("device {}", i);
      return absl::Status(status.code(), fmt::format("nvidia: {}: {}", who, message));
    };
    auto v = verifier_->VerifyDevice(devices[i], &nonce, now);
    if (!v.ok()) return refuse(v.status());
    if (ocsp_source_) {
      auto ocsp = CheckChainOcsp(*ocsp_source_, v->chain, now, &ocsp_skip);
      if (!ocsp.ok()) return refuse(ocsp.status());
      v->claims["ocsp"] = *std::move(ocsp);
    }
    if (rim_verifier_) v->claims["rim"] = RimClaim(v->claims, now);
    claims.push_back(std::move(v->claims));
  }
  return claims;
}

}  // namespace ccburst::evidence::nvidia
