// The tamper-evident audit trail's record model (docs/audit.md): JSON records with a version, a
// sequence number, a time and a kind, chained by digests (each record carries the SHA-256 of the
// previous record's canonical bytes) and sealed every N records by a checkpoint signed with the
// audit key (ES256). An export (JSON Lines) ends with a signed trailer naming the record count and
// the head digest, so that a truncated export is detected too.
//
// Pure code over bytes: no store, no clock, no I/O. The KBS appends through the store
// (kbs/audit_trail.h), the CLI verifies, queries and summarises exports (apps/audit_command.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "crypto/key.h"

namespace ccburst::audit {

// The record schema version (`version` of every record).
inline constexpr int64_t kVersion = 1;

// The kinds of records. Events: attestation, release, refusal, admin, burst_decision; the chain's
// own: checkpoint; an export's last line: export (not part of the chain).
inline constexpr std::string_view kAttestation = "attestation";
inline constexpr std::string_view kRelease = "release";
inline constexpr std::string_view kRefusal = "refusal";
inline constexpr std::string_view kAdmin = "admin";
inline constexpr std::string_view kBurstDecision = "burst_decision";
inline constexpr std::string_view kCheckpoint = "checkpoint";
inline constexpr std::string_view kExport = "export";

// Whether `kind` is one of the five event kinds (what a writer may append).
bool IsEventKind(std::string_view kind);

// `prev` of the first record: 64 zeros.
inline constexpr std::string_view kGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Something that happened, before it is chained: its kind, when, and the kind's own fields (see
// docs/audit.md; digests of evidence, resources and policies, never their contents).
struct Event {
  std::string kind;
  core::TimePoint time;
  core::json::object fields;
};

// The checkpoint signer: an ES256 (P-256) key and its id (the RFC 7638 thumbprint of the public
// key, which checkpoints carry as `key_id`).
class Signer {
 public:
  // InvalidArgument unless `key` is a P-256 key.
  static absl::StatusOr<Signer> Create(crypto::PrivateKey key);

  // ES256 over `data`: raw r||s, base64url.
  absl::StatusOr<std::string> Sign(std::string_view data) const;
  const std::string& key_id() const { return key_id_; }
  crypto::PublicKey PublicKey() const { return key_.Public(); }

 private:
  Signer(crypto::PrivateKey key, std::string key_id)
      : key_(std::move(key)), key_id_(std::move(key_id)) {}
  crypto::PrivateKey key_;
  std::string key_id_;
};

// The head of a chain: the last record's seq and digest (seq 0 and kGenesis when empty).
struct Head {
  int64_t seq = 0;
  std::string digest = std::string(kGenesis);
};

// Reads the head from the last stored record line. InvalidArgument when it is not a record.
absl::StatusOr<Head> HeadOf(std::string_view record_line);

// The canonical bytes a record's digest is taken over: RFC 8785 JSON of the record without its
// `digest` member.
std::string CanonicalBytes(const core::json::object& record);

// InvalidArgument for an unknown kind or a field that clashes with the chain's own members
// (version, seq, time, kind, prev, digest): what Extend would refuse.
absl::Status CheckEvent(const Event& event);

// The lines to append after `head`: the event's record and, when the seq after it is a multiple of
// `checkpoint_every` (and `signer` is set), a checkpoint signed by `signer` covering every record
// up to the event's. InvalidArgument for an unknown kind or a field that clashes with the chain's
// own members (version, seq, time, kind, prev, digest).
absl::StatusOr<std::vector<std::string>> Extend(const Head& head, const Event& event,
                                                int64_t checkpoint_every, const Signer* signer);

// Extend for several events in order (a batch appended at once); `head` moves to the last line's.
absl::StatusOr<std::vector<std::string>> ExtendAll(Head& head, std::span<const Event> events,
                                                   int64_t checkpoint_every, const Signer* signer);

// The signed last line of an export: the record count and head digest at export time.
absl::StatusOr<std::string> ExportTrailer(const Head& head, core::TimePoint time,
                                          const Signer& signer);

// One problem found by Verify: the line (1-based; the record number in an export), the record's
// seq when it could be read (0 otherwise), and what is wrong.
struct Finding {
  size_t line = 0;
  int64_t seq = 0;
  std::string reason;
  // "record 4 (line 4): seq 5 where 4 was expected (...)".
  std::string ToString() const;
};

struct VerifyReport {
  size_t records = 0;      // chained records read (checkpoints included)
  size_t checkpoints = 0;  // checkpoints whose signature verified
  Head head;               // the last record's
  std::vector<Finding> findings;
  bool ok() const { return findings.empty(); }
};

// Checks an export (JSON Lines, as GET /kbs/v0/admin/audit writes it): every line parses, seqs
// run 1, 2, 3, ... without gaps or repeats, each `prev` is the previous record's digest, each
// `digest` matches its record's canonical bytes, every checkpoint's count, head and signature
// (with `key`), and the trailer (present, last, signed, matching the count and head). Each
// problem is reported with its line and reason; verification continues after one, so a single
// edit yields a single finding.
VerifyReport Verify(std::string_view jsonl, const crypto::PublicKey& key);

// A parsed export line for query and report: the record object (checkpoints and the trailer
// included; callers filter on `kind`). InvalidArgument naming the line for one that is not JSON.
absl::StatusOr<std::vector<core::json::object>> ParseExport(std::string_view jsonl);

}  // namespace ccburst::audit
