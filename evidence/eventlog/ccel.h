// The confidential-computing event log (CCEL ACPI table area, TCG crypto-agile format) that TDX
// firmware, boot loaders and the attestation agent extend into RTMR0-3: parsing into events
// with the details Trustee exposes as `uefi_event_logs`, and replay of the measurement
// registers (CC MR index 1..4 = RTMR0..3, SHA-384) for comparison with a TD quote. Pure.
#pragma once

#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ccburst::evidence::eventlog {

inline constexpr uint16_t kAlgSha384 = 0x000c;

struct EventDigest {
  uint16_t alg = 0;  // TCG algorithm id (0x0b SHA-256, 0x0c SHA-384, ...)
  std::string digest;
};

struct Event {
  uint32_t index = 0;  // CC measurement register index (1 = RTMR0 .. 4 = RTMR3)
  uint32_t type = 0;
  std::vector<EventDigest> digests;
  std::string data;
  bool digest_matches_event = false;
  boost::json::object details;
};

struct CcEventLog {
  std::vector<Event> events;
};

// Parses the raw event log area: the TCG_EfiSpecIdEvent header, then events until the end of
// the data or an all-zero / all-ones terminator. Malformed input is InvalidArgument
// "eventlog: ..." naming the event and field; unknown event types and algorithms are errors,
// as in Trustee.
absl::StatusOr<CcEventLog> ParseCcel(std::string_view bytes);

// Trustee's serialization: [{"details","digest_matches_event","digests":[{"alg","digest"}],
// "event" (standard base64),"index","type_name"}, ...].
boost::json::array ToJson(const CcEventLog& log);

// Replays the digests of algorithm `alg` extended into MR `index` (starting from zeros).
std::string Replay(const CcEventLog& log, uint32_t index, uint16_t alg);

// Checks that replaying MR indexes 1..4 with SHA-384 yields `rtmrs` (RTMR0..3). PermissionDenied
// "eventlog: replayed rtmr1 ... does not match the quote's ..." otherwise.
absl::Status CheckRtmrs(const CcEventLog& log, const std::array<std::string, 4>& rtmrs);

// TCG names: "EV_SEPARATOR", "EV_EFI_ACTION", ...; empty for unknown types.
std::string_view EventTypeName(uint32_t type);

}  // namespace ccburst::evidence::eventlog
