#include "evidence/eventlog/ccel.h"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "core/byte_reader.h"
#include "core/encoding.h"
#include "core/json.h"
#include "crypto/hash.h"

namespace ccburst::evidence::eventlog {
namespace {

namespace json = boost::json;

constexpr uint32_t kEvNoAction = 0x3;
constexpr uint32_t kAaelEventId = 0x4141454c;

absl::Status Bad(std::string msg) {
  return absl::InvalidArgumentError(fmt::format("eventlog: {}", msg));
}

size_t DigestSize(uint16_t alg) {
  switch (alg) {
    case 0x4:
      return 20;
    case 0xb:
      return 32;
    case 0xc:
      return 48;
    case 0xd:
      return 64;
    case 0x12:
      return 32;
    default:
      return 0;
  }
}

std::string_view AlgName(uint16_t alg) {
  switch (alg) {
    case 0x1:
      return "RSA";
    case 0x3:
      return "TDES";
    case 0x4:
      return "SHA-1";
    case 0xb:
      return "SHA-256";
    case 0xc:
      return "SHA-384";
    case 0xd:
      return "SHA-512";
    case 0x12:
      return "SM3";
    default:
      return "";
  }
}

// Decodes UTF-8 strictly into code points; nullopt when invalid.
std::optional<std::u32string> DecodeUtf8(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return std::nullopt;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
    out.push_back(cp);
    i += n;
  }
  return out;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Lossy UTF-8 (invalid sequences become U+FFFD), as Rust's from_utf8_lossy.
std::string Utf8Lossy(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    uint8_t c = static_cast<uint8_t>(s[i]);
    size_t want = c < 0x80           ? 1
                  : (c >> 5) == 0x6  ? 2
                  : (c >> 4) == 0xe  ? 3
                  : (c >> 3) == 0x1e ? 4
                                     : 0;
    if (want != 0 && i + want <= s.size() && DecodeUtf8(s.substr(i, want))) {
      out.append(s.substr(i, want));
      n = want;
    } else {
      AppendUtf8(out, 0xfffd);
    }
    i += n;
  }
  return out;
}

// UTF-16LE to UTF-8; strict (nullopt on unpaired surrogates) or lossy.
std::optional<std::string> Utf16(std::string_view b, bool lossy) {
  std::string out;
  size_t n = b.size() / 2;
  auto unit = [&](size_t i) {
    return static_cast<char16_t>(static_cast<uint8_t>(b[2 * i]) |
                                 (static_cast<uint8_t>(b[2 * i + 1]) << 8));
  };
  for (size_t i = 0; i < n; ++i) {
    char16_t u = unit(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < n && unit(i + 1) >= 0xdc00 && unit(i + 1) <= 0xdfff) {
      char32_t cp = 0x10000 + ((u - 0xd800) << 10) + (unit(i + 1) - 0xdc00);
      AppendUtf8(out, cp);
      ++i;
    } else if (u >= 0xd800 && u <= 0xdfff) {
      if (!lossy) return std::nullopt;
      AppendUtf8(out, 0xfffd);
    } else {
      AppendUtf8(out, u);
    }
  }
  return out;
}

std::string HexUpper(std::string_view b) {
  std::string h = core::HexEncode(b);
  for (char& c : h) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return h;
}

// UEFI GUID (16 bytes) in its mixed-endian text form, upper case.
std::string UefiGuid(std::string_view g) {
  core::ByteReader r(g);
  uint32_t a = 0;
  uint16_t b = 0, c = 0;
  std::string_view d, e;
  if (!r.U32("guid", &a).ok() || !r.U16("guid", &b).ok() || !r.U16("guid", &c).ok() ||
      !r.View(2, "guid", &d).ok() || !r.View(6, "guid", &e).ok()) {
    return HexUpper(g);
  }
  return fmt::format("{:08X}-{:04X}-{:04X}-{}-{}", a, b, c, HexUpper(d), HexUpper(e));
}

json::object StringDetails(std::string s) { return json::object{{"string", std::move(s)}}; }

std::optional<std::string> DevicePathNode(uint8_t type, uint8_t sub, std::string_view d) {
  if (type == 0x01 && sub == 0x01 && d.size() >= 2) {  // Hardware / PCI
    return fmt::format("Pci({},{})", static_cast<uint8_t>(d[0]), static_cast<uint8_t>(d[1]));
  }
  if (type == 0x02 && sub == 0x01) {  // ACPI
    core::ByteReader r(d);
    uint32_t hid = 0, uid = 0;
    if (!r.U32("hid", &hid).ok() || !r.U32("uid", &uid).ok()) return std::nullopt;
    uint32_t vendor = hid & 0xffff;
    return fmt::format("ACPI({}{}{}{:04X},{})", static_cast<char>(((vendor >> 10) & 0x1f) + '@'),
                       static_cast<char>(((vendor >> 5) & 0x1f) + '@'),
                       static_cast<char>((vendor & 0x1f) + '@'), hid >> 16, uid);
  }
  if (type == 0x04 && sub == 0x01) {  // Media / hard drive
    core::ByteReader r(d);
    uint32_t part = 0, mbr_sig = 0;
    uint64_t start = 0, size = 0;
    std::string_view sig;
    uint8_t format = 0;
    if (!r.U32("partition", &part).ok() || !r.U64("start", &start).ok() ||
        !r.U64("size", &size).ok() || !r.View(16, "signature", &sig).ok() ||
        !r.U8("format", &format).ok() || !r.Skip(1, "signature type").ok()) {
      return std::nullopt;
    }
    std::string prefix, sig_text;
    if (format == 0x01) {
      core::ByteReader s(sig);
      if (!s.U32("mbr signature", &mbr_sig).ok()) return std::nullopt;
      prefix = "MBR";
      sig_text = fmt::format("{:#010x}", mbr_sig);
    } else if (format == 0x02) {
      prefix = "GPT";
      sig_text = UefiGuid(sig);
    } else {
      return std::nullopt;
    }
    std::string extra = part != 0 ? fmt::format(",{:#x},{:#x}", start, size) : "";
    return fmt::format("HD({},{},{}{})", part, prefix, sig_text, extra);
  }
  if (type == 0x04 && sub == 0x03 && d.size() >= 16) {  // Media / vendor
    return fmt::format("VenMedia({},{})", UefiGuid(d.substr(0, 16)), core::HexEncode(d.substr(16)));
  }
  if (type == 0x04 && sub == 0x04 && !d.empty() && d.size() % 2 == 0) {  // Media / file path
    return fmt::format("File({})", *Utf16(d.substr(0, d.size() - 2), true));
  }
  return std::nullopt;
}

absl::StatusOr<json::object> BootServicesAppDetails(std::string_view data) {
  // UEFI_IMAGE_LOAD_EVENT: location, length, link-time address (8 bytes each), device path
  // length, device path.
  core::ByteReader r(data);
  uint64_t len = 0;
  if (!r.Skip(24, "image").ok() || !r.U64("device path length", &len).ok()) {
    return Bad("boot services application event shorter than 32 bytes");
  }
  if (len == 0) return json::object{};
  std::string_view path_bytes;
  if (len < 4 || !r.View(len - 4, "device path", &path_bytes).ok()) {
    return Bad("boot services application device path length out of range");
  }
  if (path_bytes.size() < 4) return Bad("device path shorter than 4 bytes");
  core::ByteReader path(path_bytes);
  json::array paths;
  while (!path.empty()) {
    uint8_t type = 0, sub = 0;
    uint16_t node_len = 0;
    if (!path.U8("type", &type).ok() || !path.U8("subtype", &sub).ok() ||
        !path.U16("length", &node_len).ok()) {
      return Bad("truncated device path node");
    }
    std::string_view node;
    if (node_len < 4 || !path.View(node_len - 4, "node", &node).ok()) {
      return Bad("device path node length out of range");
    }
    auto text = DevicePathNode(type, sub, node);
    paths.emplace_back(text ? *text
                            : fmt::format("Path({},{},{})", type, sub, core::HexEncode(node)));
  }
  return json::object{{"device_paths", std::move(paths)}};
}

absl::StatusOr<json::object> EfiVariableDetails(std::string_view data) {
  core::ByteReader c(data);
  std::string_view guid;
  uint64_t name_len = 0, data_len = 0;
  if (!c.View(16, "guid", &guid).ok() || !c.U64("name_len", &name_len).ok() ||
      !c.U64("data_len", &data_len).ok()) {
    return Bad("efi variable event header truncated");
  }
  std::string_view name_bytes, var_data;
  if (name_len > c.remaining() / 2 || !c.View(name_len * 2, "name_bytes", &name_bytes).ok()) {
    return Bad("efi variable name out of bounds");
  }
  auto name = Utf16(name_bytes, false);
  if (!name) return Bad("efi variable name is not UTF-16");
  if (data_len > c.remaining() || !c.View(data_len, "var_data", &var_data).ok()) {
    return Bad("efi variable data out of bounds");
  }
  return json::object{
      {"unicode_name", *name},
      {"unicode_name_length", name_len},
      {"variable_data", data_len > 0 ? core::Base64Encode(var_data) : std::string()},
      {"variable_data_length", data_len},
      {"variable_name",
       fmt::format("{}-{}-{}-{}-{}", core::HexEncode(guid.substr(0, 4)),
                   core::HexEncode(guid.substr(4, 2)), core::HexEncode(guid.substr(6, 2)),
                   core::HexEncode(guid.substr(8, 2)), core::HexEncode(guid.substr(10, 6)))},
  };
}

absl::StatusOr<json::object> EventTagDetails(std::string_view data) {
  core::ByteReader c(data);
  uint32_t id = 0, size = 0;
  std::string_view body;
  if (!c.U32("id", &id).ok() || !c.U32("size", &size).ok() || !c.View(size, "body", &body).ok())
    return Bad("event tag truncated");
  std::string desc = Utf8Lossy(body);
  std::erase(desc, '\0');
  json::object details = StringDetails(desc);
  if (id == kAaelEventId) {
    if (!DecodeUtf8(body)) return Bad("AAEL event data is not UTF-8");
    size_t sp1 = body.find(' ');
    if (sp1 == std::string_view::npos) return Bad("AAEL event without domain");
    size_t sp2 = body.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return Bad("AAEL event without operation");
    std::string_view content = body.substr(sp2 + 1);
    auto parsed = core::ParseJson(content);
    details["data"] = json::object{
        {"domain", body.substr(0, sp1)},
        {"operation", body.substr(sp1 + 1, sp2 - sp1 - 1)},
        {"content", parsed.ok() ? *parsed : json::value(content)},
    };
    details["unicode_name"] = "AAEL";
  }
  return details;
}

absl::StatusOr<json::object> Details(uint32_t type, std::string_view data) {
  switch (type) {
    case 0x1:           // EV_POST_CODE
    case 0x5:           // EV_ACTION
    case 0xc:           // EV_COMPACT_HASH
    case 0x12:          // EV_OMIT_BOOT_DEVICE_EVENTS
    case 0x80000007: {  // EV_EFI_ACTION
      if (!DecodeUtf8(data)) return Bad(fmt::format("{} event is not UTF-8", EventTypeName(type)));
      return StringDetails(std::string(data));
    }
    case 0x6:
      return EventTagDetails(data);
    case 0xa: {  // EV_PLATFORM_CONFIG_FLAGS
      auto cps = DecodeUtf8(data);
      std::string out;
      if (cps) {
        for (char32_t cp : *cps) {
          if (cp == 0x10) cp = ' ';
          if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) continue;
          AppendUtf8(out, cp);
        }
      }
      return StringDetails(out);
    }
    case 0xd: {  // EV_IPL
      if (data.size() < 2) return Bad("EV_IPL event shorter than 2 bytes");
      if (data[0] == 0x2e && data[1] == 0x00) {
        size_t end = data.size() - 2;
        if (end == 0 || end % 2 != 0) return Bad("EV_IPL event is not UTF-16");
        return StringDetails(*Utf16(data.substr(2, end - 2), true));
      }
      std::string_view s = data.substr(0, std::min(data.find('\0'), data.size()));
      return StringDetails(DecodeUtf8(s) ? std::string(s) : core::HexEncode(data));
    }
    case 0x80000001:  // EV_EFI_VARIABLE_DRIVER_CONFIG
    case 0x80000002:  // EV_EFI_VARIABLE_BOOT
    case 0x8000000c:  // EV_EFI_VARIABLE_BOOT2
    case 0x800000e0:  // EV_EFI_VARIABLE_AUTHORITY
      return EfiVariableDetails(data);
    case 0x80000003:
      return BootServicesAppDetails(data);
    case 0x8000000a:    // EV_EFI_PLATFORM_FIRMWARE_BLOB2
    case 0x8000000b: {  // EV_EFI_HANDOFF_TABLES2
      if (data.empty()) return Bad(fmt::format("{} event is empty", EventTypeName(type)));
      size_t len = static_cast<uint8_t>(data[0]);
      // Trustee reads bytes [1, len) of the description.
      if (len < 1 || len > data.size()) {
        return Bad(fmt::format("{} description length out of range", EventTypeName(type)));
      }
      std::string_view s = data.substr(1, len - 1);
      if (!DecodeUtf8(s))
        return Bad(fmt::format("{} description is not UTF-8", EventTypeName(type)));
      return StringDetails(std::string(s));
    }
    default:
      return json::object{};
  }
}

bool DigestsMatch(std::string_view data, const std::vector<EventDigest>& digests) {
  for (const auto& d : digests) {
    std::string computed;
    switch (d.alg) {
      case 0xb:
        computed = crypto::Sha256(data);
        break;
      case 0xc:
        computed = crypto::Sha384(data);
        break;
      case 0xd:
        computed = crypto::Sha512(data);
        break;
      default:
        return false;
    }
    if (computed != d.digest) return false;
  }
  return true;
}

}  // namespace

std::string_view EventTypeName(uint32_t type) {
  static const std::map<uint32_t, std::string_view> kNames = {
      {0x0, "EV_PREBOOT_CERT"},
      {0x1, "EV_POST_CODE"},
      {0x2, "EV_UNUSED"},
      {0x3, "EV_NO_ACTION"},
      {0x4, "EV_SEPARATOR"},
      {0x5, "EV_ACTION"},
      {0x6, "EV_EVENT_TAG"},
      {0x7, "EV_S_CRTM_CONTENTS"},
      {0x8, "EV_S_CRTM_VERSION"},
      {0x9, "EV_CPU_MICROCODE"},
      {0xa, "EV_PLATFORM_CONFIG_FLAGS"},
      {0xb, "EV_TABLE_OF_DEVICES"},
      {0xc, "EV_COMPACT_HASH"},
      {0xd, "EV_IPL"},
      {0xe, "EV_IPL_PARTITION_DATA"},
      {0xf, "EV_NONHOST_CODE"},
      {0x10, "EV_NONHOST_CONFIG"},
      {0x11, "EV_NONHOST_INFO"},
      {0x12, "EV_OMIT_BOOT_DEVICE_EVENTS"},
      {0x80000000, "EV_EFI_EVENT_BASE"},
      {0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
      {0x80000002, "EV_EFI_VARIABLE_BOOT"},
      {0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION"},
      {0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER"},
      {0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
      {0x80000006, "EV_EFI_GPT_EVENT"},
      {0x80000007, "EV_EFI_ACTION"},
      {0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
      {0x80000009, "EV_EFI_HANDOFF_TABLES"},
      {0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
      {0x8000000b, "EV_EFI_HANDOFF_TABLES2"},
      {0x8000000c, "EV_EFI_VARIABLE_BOOT2"},
      {0x80000010, "EV_EFI_HCRTM_EVENT"},
      {0x800000e0, "EV_EFI_VARIABLE_AUTHORITY"},
      {0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB"},
      {0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
  };
  auto it = kNames.find(type);
  return it == kNames.end() ? std::string_view() : it->second;
}

absl::StatusOr<CcEventLog> ParseCcel(std::string_view bytes) {
  core::ByteReader c(bytes);
  // TCG_PCR_EVENT (SHA-1 format) carrying the TCG_EfiSpecIdEvent.
  uint32_t pcr = 0, type = 0, size = 0;
  if (!c.U32("pcr", &pcr).ok() || !c.U32("type", &type).ok())
    return Bad("truncated spec id event header");
  if (EventTypeName(type).empty()) return Bad(fmt::format("unknown event type {:#x}", type));
  if (!c.Skip(20, "sha1 digest").ok() || !c.U32("size", &size).ok())
    return Bad("truncated spec id event header");
  std::map<uint16_t, size_t> sizes;
  if (type == kEvNoAction) {
    std::string_view spec;
    if (!c.View(size, "spec", &spec).ok()) return Bad("spec id event exceeds the log");
    core::ByteReader s(spec);
    uint32_t count = 0;
    if (!s.Skip(24, "header").ok() || !s.U32("count", &count).ok())
      return Bad("truncated spec id event");
    for (uint32_t i = 0; i < count; ++i) {
      uint16_t alg = 0, len = 0;
      if (!s.U16("alg", &alg).ok() || !s.U16("len", &len).ok())
        return Bad("truncated spec id algorithm list");
      if (AlgName(alg).empty()) return Bad(fmt::format("unknown algorithm {:#x}", alg));
      sizes[alg] = len;
    }
    uint8_t vendor = 0;
    if (!s.U8("vendor", &vendor).ok() || !s.Skip(vendor, "vendor info").ok() ||
        s.offset() != spec.size()) {
      return Bad("spec id event size does not match its contents");
    }
  }

  CcEventLog log;
  while (c.remaining() > 0) {
    size_t start = c.offset();
    uint64_t stop = 0;
    core::ByteReader peek(c.rest());
    if (!peek.U64("stop", &stop).ok())
      return Bad(fmt::format("truncated event at offset {}", start));
    if (stop == 0 || stop == ~uint64_t{0}) break;
    Event e;
    if (!c.U32("index", &e.index).ok() || !c.U32("type", &e.type).ok())
      return Bad(fmt::format("truncated event at offset {}", start));
    if (EventTypeName(e.type).empty()) {
      return Bad(fmt::format("unknown event type {:#x} at offset {}", e.type, start));
    }
    uint32_t count = 0;
    if (!c.U32("count", &count).ok())
      return Bad(fmt::format("truncated digest count at offset {}", start));
    for (uint32_t i = 0; i < count; ++i) {
      EventDigest d;
      if (!c.U16("alg", &d.alg).ok())
        return Bad(fmt::format("truncated digest at offset {}", start));
      if (AlgName(d.alg).empty()) return Bad(fmt::format("unknown algorithm {:#x}", d.alg));
      auto it = sizes.find(d.alg);
      if (it == sizes.end()) return Bad(fmt::format("no digest size for algorithm {:#x}", d.alg));
      std::string_view digest;
      if (!c.View(it->second, "digest", &digest).ok())
        return Bad(fmt::format("truncated digest at offset {}", start));
      d.digest.assign(digest);
      e.digests.push_back(std::move(d));
    }
    uint32_t data_size = 0;
    std::string_view data;
    if (!c.U32("data_size", &data_size).ok() || !c.View(data_size, "data", &data).ok()) {
      return Bad(fmt::format("event data at offset {} exceeds the log", start));
    }
    e.data.assign(data);
    e.digest_matches_event = DigestsMatch(data, e.digests);
    auto details = Details(e.type, data);
    if (!details.ok()) {
      return absl::InvalidArgumentError(fmt::format(
          "{} (event {} at offset {})", core::Message(details.status()), log.events.size(), start));
    }
    e.details = *std::move(details);
    log.events.push_back(std::move(e));
  }
  return log;
}

json::array ToJson(const CcEventLog& log) {
  json::array out;
  for (const Event& e : log.events) {
    json::array digests;
    for (const auto& d : e.digests) {
      digests.push_back(
          json::object{{"alg", AlgName(d.alg)}, {"digest", core::HexEncode(d.digest)}});
    }
    out.push_back(json::object{
        {"details", e.details},
        {"digest_matches_event", e.digest_matches_event},
        {"digests", std::move(digests)},
        {"event", core::Base64Encode(e.data)},
        {"index", e.index},
        {"type_name", EventTypeName(e.type)},
    });
  }
  return out;
}

std::string Replay(const CcEventLog& log, uint32_t index, uint16_t alg) {
  size_t size = DigestSize(alg);
  std::string mr(size, '\0');
  for (const Event& e : log.events) {
    if (e.index != index) continue;
    for (const auto& d : e.digests) {
      if (d.alg != alg) continue;
      std::string input = mr + d.digest;
      switch (alg) {
        case 0xb:
          mr = crypto::Sha256(input);
          break;
        case 0xc:
          mr = crypto::Sha384(input);
          break;
        case 0xd:
          mr = crypto::Sha512(input);
          break;
        default:
          break;
      }
    }
  }
  return mr;
}

absl::Status CheckRtmrs(const CcEventLog& log, const std::array<std::string, 4>& rtmrs) {
  for (uint32_t i = 0; i < 4; ++i) {
    std::string replayed = Replay(log, i + 1, kAlgSha384);
    if (replayed != rtmrs[i]) {
      return absl::PermissionDeniedError(
          fmt::format("eventlog: replayed rtmr{} {} does not match the quote's {}", i,
                      core::HexEncode(replayed), core::HexEncode(rtmrs[i])));
    }
  }
  return absl::OkStatus();
}

}  // namespace ccburst::evidence::eventlog
