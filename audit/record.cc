#include "audit/record.h"

#include <fmt/format.h>

#include <array>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/signature.h"

namespace ccburst::audit {
namespace json = core::json;
namespace {

constexpr std::string_view kAlg = "ES256";
constexpr std::array<std::string_view, 6> kChainMembers = {"version", "seq",  "time",
                                                           "kind",    "prev", "digest"};

std::string HexSha256(std::string_view data) { return core::HexEncode(crypto::Sha256(data)); }

// The bytes a checkpoint's or trailer's signature covers: the object without signature and
// digest, canonical.
std::string SignedBytes(json::object o) {
  o.erase("signature");
  o.erase("digest");
  return core::Jcs(o);
}

absl::Status CheckSignature(const json::object& o, const crypto::PublicKey& key,
                            const std::string& key_id) {
  const json::value* kid = o.if_contains("key_id");
  if (kid == nullptr || !kid->is_string()) return absl::InvalidArgumentError("no key_id");
  if (kid->get_string() != key_id) {
    return absl::PermissionDeniedError(
        fmt::format("signed by key {}, not by the given key {} (wrong key)",
                    std::string(kid->get_string()), key_id));
  }
  const json::value* sig = o.if_contains("signature");
  if (sig == nullptr || !sig->is_string()) return absl::InvalidArgumentError("no signature");
  auto raw = core::Base64UrlDecode(std::string(sig->get_string()));
  if (!raw.ok()) return absl::InvalidArgumentError("signature is not base64url");
  if (!crypto::VerifyEcdsa(key, crypto::HashAlg::kSha256, SignedBytes(o), *raw).ok()) {
    return absl::PermissionDeniedError("signature does not verify with the given key");
  }
  return absl::OkStatus();
}

std::optional<int64_t> IntMember(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= INT64_MAX) return static_cast<int64_t>(v->get_uint64());
  return std::nullopt;
}

std::string StringMember(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Seals `record` (which has every member but digest) and returns its line; `head` moves on.
std::string Seal(json::object record, Head& head) {
  std::string digest = HexSha256(core::Jcs(record));
  record["digest"] = digest;
  head.seq = record["seq"].as_int64();
  head.digest = std::move(digest);
  return json::serialize(record);
}

json::object Skeleton(const Head& head, core::TimePoint time, std::string_view kind) {
  json::object o;
  o["version"] = kVersion;
  o["seq"] = head.seq + 1;
  o["time"] = core::FormatRfc3339(time);
  o["kind"] = kind;
  o["prev"] = head.digest;
  return o;
}

}  // namespace

static absl::Status AppendCheckpointIfDue(Head& next, core::TimePoint time,
                                          int64_t checkpoint_every, const Signer* signer,
                                          std::vector<std::string>& lines);

bool IsEventKind(std::string_view kind) {
  return kind == kAttestation || kind == kRelease || kind == kRefusal || kind == kAdmin ||
         kind == kBurstDecision;
}

absl::StatusOr<Signer> Signer::Create(crypto::PrivateKey key) {
  if (key.type() != crypto::KeyType::kEcP256) {
    return absl::InvalidArgumentError("audit: the signing key must be an EC P-256 key (ES256)");
  }
  std::string key_id = crypto::JwkThumbprint(key.Public());
  return Signer(std::move(key), std::move(key_id));
}

absl::StatusOr<std::string> Signer::Sign(std::string_view data) const {
  CCB_ASSIGN_OR_RETURN(std::string raw, crypto::SignEcdsa(key_, crypto::HashAlg::kSha256, data),
                       "audit: signing a checkpoint");
  return core::Base64UrlEncode(raw);
}

absl::StatusOr<Head> HeadOf(std::string_view record_line) {
  CCB_ASSIGN_OR_RETURN(json::value v, core::ParseJson(record_line), "audit: the chain's head");
  const json::object* o = v.if_object();
  std::optional<int64_t> seq = o ? IntMember(*o, "seq") : std::nullopt;
  std::string digest = o ? StringMember(*o, "digest") : "";
  if (!seq || digest.size() != kGenesis.size()) {
    return absl::InvalidArgumentError("audit: the chain's head has no seq or digest");
  }
  return Head{*seq, std::move(digest)};
}

std::string CanonicalBytes(const json::object& record) {
  json::object copy = record;
  copy.erase("digest");
  return core::Jcs(copy);
}

absl::Status CheckEvent(const Event& event) {
  if (!IsEventKind(event.kind)) {
    return absl::InvalidArgumentError(fmt::format("audit: unknown record kind `{}`", event.kind));
  }
  for (const auto& [name, value] : event.fields) {
    for (std::string_view reserved : kChainMembers) {
      if (name == reserved) {
        return absl::InvalidArgumentError(fmt::format(
            "audit: field `{}` of a {} record clashes with the chain's own", reserved, event.kind));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Extend(const Head& head, const Event& event,
                                                int64_t checkpoint_every, const Signer* signer) {
  Head next = head;
  return ExtendAll(next, std::span<const Event>(&event, 1), checkpoint_every, signer);
}

absl::StatusOr<std::vector<std::string>> ExtendAll(Head& head, std::span<const Event> events,
                                                   int64_t checkpoint_every, const Signer* signer) {
  std::vector<std::string> lines;
  for (const Event& event : events) {
    CCB_RETURN_IF_ERROR(CheckEvent(event));
    json::object record = Skeleton(head, event.time, event.kind);
    for (const auto& [name, value] : event.fields) record[name] = value;
    lines.push_back(Seal(std::move(record), head));
    CCB_RETURN_IF_ERROR(AppendCheckpointIfDue(head, event.time, checkpoint_every, signer, lines));
  }
  return lines;
}

static absl::Status AppendCheckpointIfDue(Head& next, core::TimePoint time,
                                          int64_t checkpoint_every, const Signer* signer,
                                          std::vector<std::string>& lines) {
  if (signer != nullptr && checkpoint_every > 0 && (next.seq + 1) % checkpoint_every == 0) {
    json::object cp = Skeleton(next, time, kCheckpoint);
    cp["count"] = next.seq;
    cp["head"] = next.digest;
    cp["alg"] = kAlg;
    cp["key_id"] = signer->key_id();
    CCB_ASSIGN_OR_RETURN(std::string sig, signer->Sign(SignedBytes(cp)));
    cp["signature"] = std::move(sig);
    lines.push_back(Seal(std::move(cp), next));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ExportTrailer(const Head& head, core::TimePoint time,
                                          const Signer& signer) {
  json::object t;
  t["version"] = kVersion;
  t["kind"] = kExport;
  t["time"] = core::FormatRfc3339(time);
  t["count"] = head.seq;
  t["head"] = head.digest;
  t["alg"] = kAlg;
  t["key_id"] = signer.key_id();
  CCB_ASSIGN_OR_RETURN(std::string sig, signer.Sign(SignedBytes(t)));
  t["signature"] = std::move(sig);
  return json::serialize(t);
}

std::string Finding::ToString() const {
  if (seq > 0) return fmt::format("record {} (line {}, seq {}): {}", line, line, seq, reason);
  return fmt::format("record {} (line {}): {}", line, line, reason);
}

VerifyReport Verify(std::string_view jsonl, const crypto::PublicKey& key) {
  VerifyReport report;
  const std::string key_id = crypto::JwkThumbprint(key);
  Head head;
  bool trailer_seen = false;
  size_t line_no = 0;
  auto find = [&](int64_t seq, std::string reason) {
    report.findings.push_back(Finding{line_no, seq, std::move(reason)});
  };
  size_t pos = 0;
  while (pos < jsonl.size()) {
    size_t end = jsonl.find('\n', pos);
    const bool terminated = end != std::string_view::npos;
    if (!terminated) end = jsonl.size();
    std::string_view line = jsonl.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) {
      find(0, "empty line");
      continue;
    }
    auto parsed = core::ParseJson(line);
    if (!parsed.ok() || !parsed->is_object()) {
      find(0, terminated ? "not a JSON object"
                         : "not a JSON object (the export is truncated in this line)");
      continue;
    }
    const json::object& o = parsed->get_object();
    const std::string kind = StringMember(o, "kind");
    if (trailer_seen) {
      find(IntMember(o, "seq").value_or(0), "a line after the export trailer");
      continue;
    }
    if (kind == kExport) {
      trailer_seen = true;
      if (IntMember(o, "count") != head.seq || StringMember(o, "head") != head.digest) {
        find(0, fmt::format("the export trailer names {} records and head {}, but the export "
                            "holds {} records with head {} (records were deleted or appended)",
                            IntMember(o, "count").value_or(-1), StringMember(o, "head"), head.seq,
                            head.digest));
      }
      if (absl::Status s = CheckSignature(o, key, key_id); !s.ok()) {
        find(0, fmt::format("export trailer: {}", core::Message(s)));
      }
      continue;
    }
    std::optional<int64_t> seq = IntMember(o, "seq");
    if (!seq) {
      find(0, "no seq");
      continue;
    }
    ++report.records;
    std::vector<std::string> problems;
    if (IntMember(o, "version") != kVersion) {
      problems.push_back(fmt::format("version is not {}", kVersion));
    }
    if (*seq != head.seq + 1) {
      if (*seq <= head.seq) {
        problems.push_back(
            fmt::format("seq {} where {} was expected (a duplicate or a reordered record)", *seq,
                        head.seq + 1));
      } else {
        problems.push_back(fmt::format(
            "seq {} where {} was expected (records {}..{} are missing or were reordered)", *seq,
            head.seq + 1, head.seq + 1, *seq - 1));
      }
    }
    const std::string prev = StringMember(o, "prev");
    if (prev != head.digest) {
      problems.push_back(
          fmt::format("prev {} is not the digest of the record before it ({})", prev, head.digest));
    }
    const std::string digest = StringMember(o, "digest");
    if (digest != HexSha256(CanonicalBytes(o))) {
      problems.push_back("digest does not match the record's contents (the record was edited)");
    }
    if (kind == kCheckpoint) {
      if (IntMember(o, "count") != head.seq || StringMember(o, "head") != head.digest) {
        problems.push_back(fmt::format("checkpoint names {} records and head {}, not {} and {}",
                                       IntMember(o, "count").value_or(-1), StringMember(o, "head"),
                                       head.seq, head.digest));
      }
      if (absl::Status s = CheckSignature(o, key, key_id); !s.ok()) {
        problems.push_back(fmt::format("checkpoint {}", core::Message(s)));
      } else {
        ++report.checkpoints;
      }
    } else if (!IsEventKind(kind)) {
      problems.push_back(fmt::format("unknown kind `{}`", kind));
    }
    for (std::string& p : problems) find(*seq, std::move(p));
    // Go on from what this record says of itself, so one edit is one finding.
    head.seq = *seq;
    head.digest = digest;
  }
  report.head = head;
  if (!trailer_seen) {
    report.findings.push_back(
        Finding{line_no + 1, 0,
                fmt::format("missing: the export ends after record {} without its signed trailer "
                            "(the export is truncated)",
                            line_no)});
  }
  return report;
}

absl::StatusOr<std::vector<json::object>> ParseExport(std::string_view jsonl) {
  std::vector<json::object> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < jsonl.size()) {
    size_t end = jsonl.find('\n', pos);
    if (end == std::string_view::npos) end = jsonl.size();
    std::string_view line = jsonl.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    auto v = core::ParseJson(line);
    if (!v.ok() || !v->is_object()) {
      return absl::InvalidArgumentError(
          fmt::format("audit: record {} (line {}) is not a JSON object", line_no, line_no));
    }
    out.push_back(std::move(v->get_object()));
  }
  return out;
}

}  // namespace ccburst::audit
