#include "evidence/snp/verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <list>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/signature.h"

namespace ccburst::evidence::snp {

namespace json = boost::json;

struct SnpVerifier::Anchor {
  Generation product = Generation::kUnknown;
  std::unique_ptr<Certificate> ark;
  std::unique_ptr<Certificate> ask;   // may be null
  std::unique_ptr<Certificate> asvk;  // may be null
};

// A verified VEK -> intermediate -> ARK chain; only the validity windows depend on the time.
struct SnpVerifier::Chain {
  Generation product = Generation::kUnknown;
  SigningKey kind = SigningKey::kVcek;
  std::shared_ptr<const Certificate> vek;
  std::optional<crypto::PublicKey> key;
  VekExtensions ext;
  // Owned only when the intermediate came from the evidence; otherwise the anchor's.
  std::shared_ptr<const Certificate> evidence_intermediate;
  const Certificate* intermediate = nullptr;
  const Certificate* ark = nullptr;
};

// A CRL whose signature verified with an ARK (or that names another ARK and so does not apply
// to that ARK's chains).
struct SnpVerifier::CrlEntry {
  bool applies = false;  // issued by the ARK it was looked up for
  std::string issuer_cn;
  core::TimePoint this_update;
  std::optional<core::TimePoint> next_update;
  std::unordered_set<std::string> revoked;  // serial numbers as CertificateSerialHex
};

namespace {

// A bounded map from exact bytes to immutable shared values; the least recently used entry is
// dropped when full. Thread-safe: lookups and inserts take one short lock.
template <typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const V> Get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.position);
    return it->second.value;
  }

  void Put(std::string key, std::shared_ptr<const V> value) {
    if (capacity_ == 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = map_.find(key); it != map_.end()) {
      it->second.value = std::move(value);
      order_.splice(order_.begin(), order_, it->second.position);
      return;
    }
    if (map_.size() >= capacity_) {
      auto victim = map_.find(*order_.back());
      order_.pop_back();
      map_.erase(victim);
    }
    auto [it, inserted] = map_.emplace(std::move(key), Slot{std::move(value), {}});
    order_.push_front(&it->first);
    it->second.position = order_.begin();
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return map_.size();
  }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  // Most recently used first; points at the keys in map_ (node-based: a rehash moves no key).
  using Order = std::list<const std::string*>;
  struct Slot {
    std::shared_ptr<const V> value;
    typename Order::iterator position;
  };
  Order order_;
  std::unordered_map<std::string, Slot> map_;
};

}  // namespace

struct SnpVerifier::Caches {
  Caches(size_t chains, size_t crls) : chains(chains), crls(crls) {}
  LruCache<Chain> chains;
  LruCache<CrlEntry> crls;
};

namespace {

std::string_view VekName(SigningKey k) { return k == SigningKey::kVlek ? "VLEK" : "VCEK"; }
std::string_view IntermediateName(SigningKey k) { return k == SigningKey::kVlek ? "ASVK" : "ASK"; }

// "SEV-Milan" / "SEV-VLEK-Milan" -> Milan.
Generation GenerationFromIssuer(std::string_view cn) {
  for (std::string_view prefix : {"SEV-VLEK-", "SEV-"}) {
    if (cn.substr(0, prefix.size()) == prefix) return GenerationFromName(cn.substr(prefix.size()));
  }
  return Generation::kUnknown;
}

std::string Regularize(std::string_view data, size_t len) {
  std::string out(data.substr(0, std::min(len, data.size())));
  out.resize(len, '\0');
  return out;
}

absl::Status CheckSpl(const std::optional<int64_t>& cert_value, uint8_t report_value,
                      std::string_view spl, std::string_view field, SigningKey kind) {
  if (!cert_value) {
    return absl::PermissionDeniedError(
        fmt::format("snp: {} has no {} extension", VekName(kind), spl));
  }
  if (*cert_value != report_value) {
    return absl::PermissionDeniedError(
        fmt::format("snp: REPORTED_TCB {} {} does not match the {} {} {}", field, report_value,
                    VekName(kind), spl, *cert_value));
  }
  return absl::OkStatus();
}

class StaticCertSource final : public CertSource {
 public:
  struct Entry {
    std::string der;
    SigningKey kind;
    VekExtensions ext;
  };
  explicit StaticCertSource(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  absl::StatusOr<std::string> FetchVek(const VekQuery& q) const override {
    const Entry* first = nullptr;
    for (const Entry& e : entries_) {
      if (e.kind != q.kind) continue;
      if (first == nullptr) first = &e;
      bool hwid_ok = q.kind == SigningKey::kVlek ||
                     (e.ext.hwid && q.chip_id.substr(0, e.ext.hwid->size()) == *e.ext.hwid);
      const Tcb& t = q.reported_tcb;
      bool tcb_ok = e.ext.bl_spl == t.bootloader && e.ext.tee_spl == t.tee &&
                    e.ext.snp_spl == t.snp && e.ext.ucode_spl == t.microcode;
      if (hwid_ok && tcb_ok) return e.der;
    }
    if (first != nullptr) return first->der;
    return absl::NotFoundError(
        fmt::format("snp: no {} among the supplied certificates", VekName(q.kind)));
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const CertSource>> NewStaticCertSource(
    const std::vector<std::string>& blobs) {
  std::vector<StaticCertSource::Entry> entries;
  for (const std::string& blob : blobs) {
    CCB_ASSIGN_OR_RETURN(std::vector<std::string> ders, SplitCertificates(blob));
    for (std::string& der : ders) {
      CCB_ASSIGN_OR_RETURN(Certificate c, ParseCertificate(der, "supplied certificate"));
      SigningKey kind;
      if (c.subject_cn() == "SEV-VCEK") {
        kind = SigningKey::kVcek;
      } else if (c.subject_cn() == "SEV-VLEK") {
        kind = SigningKey::kVlek;
      } else {
        continue;
      }
      auto ext = ParseVekExtensions(c);
      entries.push_back({std::move(der), kind, ext.ok() ? *ext : VekExtensions{}});
    }
  }
  return std::shared_ptr<const CertSource>(std::make_shared<StaticCertSource>(std::move(entries)));
}

json::object ReportClaims(const Report& r) {
  json::object c;
  c["policy_abi_major"] = r.policy.abi_major();
  c["policy_abi_minor"] = r.policy.abi_minor();
  c["policy_smt_allowed"] = r.policy.smt_allowed();
  c["policy_migrate_ma"] = r.policy.migrate_ma_allowed();
  c["policy_debug_allowed"] = r.policy.debug_allowed();
  c["policy_single_socket"] = r.policy.single_socket_required();
  c["reported_tcb_bootloader"] = r.reported_tcb.bootloader;
  c["reported_tcb_tee"] = r.reported_tcb.tee;
  c["reported_tcb_snp"] = r.reported_tcb.snp;
  c["reported_tcb_microcode"] = r.reported_tcb.microcode;
  c["platform_tsme_enabled"] = r.platform_info.tsme_enabled();
  c["platform_smt_enabled"] = r.platform_info.smt_enabled();
  c["measurement"] = core::HexEncode(r.measurement);
  c["report_data"] = core::HexEncode(r.report_data);
  c["init_data"] = core::HexEncode(r.host_data);
  c["chip_id"] = core::HexEncode(r.chip_id);
  return c;
}

SnpVerifier::SnpVerifier(SnpVerifierOptions options)
    : options_(std::move(options)),
      caches_(std::make_unique<Caches>(options_.chain_cache_entries, options_.crl_cache_entries)) {}
SnpVerifier::~SnpVerifier() = default;

absl::StatusOr<std::unique_ptr<SnpVerifier>> SnpVerifier::Create(SnpVerifierOptions options) {
  if (options.anchors.empty()) options.anchors = AmdProductAnchors();
  if (options.min_report_version < 2 || options.min_report_version > 5) {
    return absl::InvalidArgumentError(
        fmt::format("snp: minimum report version {} is outside 2..5", options.min_report_version));
  }
  std::unique_ptr<SnpVerifier> v(new SnpVerifier(std::move(options)));
  for (const ProductAnchor& pa : v->options_.anchors) {
    std::string_view name = GenerationName(pa.product);
    if (pa.product == Generation::kUnknown) {
      return absl::InvalidArgumentError("snp: trust anchor without a processor generation");
    }
    auto a = std::make_unique<Anchor>();
    a->product = pa.product;
    CCB_ASSIGN_OR_RETURN(Certificate ark, ParseCertificate(pa.ark, fmt::format("{} ARK", name)));
    a->ark = std::make_unique<Certificate>(std::move(ark));
    if (!VerifySignedBy(*a->ark, *a->ark).ok()) {
      return absl::InvalidArgumentError(
          fmt::format("snp: {} ARK `{}` is not self-signed", name, a->ark->subject_cn()));
    }
    std::string fp = core::HexEncode(a->ark->spki_sha256());
    if (!v->options_.allow_unpinned_arks && fp != PinnedArkFingerprint(pa.product)) {
      return absl::InvalidArgumentError(
          fmt::format("snp: {} ARK key fingerprint {} is not AMD's pinned {}", name, fp,
                      PinnedArkFingerprint(pa.product)));
    }
    for (auto [blob, slot, what] :
         {std::tuple{&pa.ask, &a->ask, "ASK"}, std::tuple{&pa.asvk, &a->asvk, "ASVK"}}) {
      if (blob->empty()) continue;
      CCB_ASSIGN_OR_RETURN(Certificate c,
                           ParseCertificate(*blob, fmt::format("{} {}", name, what)));
      auto st = VerifySignedBy(c, *a->ark);
      if (!st.ok()) {
        return absl::InvalidArgumentError(
            fmt::format("snp: {} {} is not issued by the ARK: {}", name, what, core::Message(st)));
      }
      *slot = std::make_unique<Certificate>(std::move(c));
    }
    v->anchors_.push_back(std::move(a));
  }
  return v;
}

absl::StatusOr<std::shared_ptr<const SnpVerifier::Chain>> SnpVerifier::BuildChain(
    std::string_view vek_blob, const std::vector<const EvidenceCert*>& cas, SigningKey kind) const {
  std::string_view vname = VekName(kind);
  CCB_ASSIGN_OR_RETURN(Certificate vek_parsed, ParseCertificate(vek_blob, vname));
  auto vek = std::make_shared<const Certificate>(std::move(vek_parsed));
  std::string expected_cn = fmt::format("SEV-{}", vname);
  if (vek->subject_cn() != expected_cn) {
    return absl::PermissionDeniedError(
        fmt::format("snp: report is signed by the {} but the endorsement certificate is `{}`",
                    vname, vek->subject_cn()));
  }
  // The generation: the productName extension, else the issuer name (SEV-Milan, SEV-VLEK-Milan).
  Generation product = Generation::kUnknown;
  if (auto pn = vek->Extension("1.3.6.1.4.1.3704.1.2")) {
    auto ext = ParseVekExtensions(*vek);
    if (ext.ok()) product = GenerationFromName(ext->product_name);
  }
  if (product == Generation::kUnknown) product = GenerationFromIssuer(vek->issuer_cn());
  if (product == Generation::kUnknown) {
    return absl::PermissionDeniedError(
        fmt::format("snp: cannot tell the processor generation of the {} (issuer `{}`)", vname,
                    vek->issuer_cn()));
  }
  const Anchor* anchor = nullptr;
  for (const auto& a : anchors_) {
    if (a->product == product) anchor = a.get();
  }
  if (anchor == nullptr) {
    return absl::PermissionDeniedError(
        fmt::format("snp: no trusted ARK for {}", GenerationName(product)));
  }
  auto chain = std::make_shared<Chain>();
  chain->product = product;
  chain->kind = kind;
  chain->ark = anchor->ark.get();

  // CA certificates in the evidence: an ARK must be the trusted ARK (same key); an ASK/ASVK must be
  // issued by it, and is used when it is the VEK's issuer. Operator-supplied certificates for
  // another generation are skipped.
  std::string_view iname = IntermediateName(kind);
  // ARKs first so that a foreign root is named as such.
  std::vector<std::pair<const EvidenceCert*, Certificate>> parsed;
  for (const EvidenceCert* ca : cas) {
    CCB_ASSIGN_OR_RETURN(
        Certificate c,
        ParseCertificate(ca->data, fmt::format("{} in the evidence", CertKindName(ca->kind))));
    parsed.emplace_back(ca, std::move(c));
  }
  std::stable_partition(parsed.begin(), parsed.end(), [](const auto& p) {
    return p.first->kind == CertKind::kArk || p.second.subject_cn().rfind("ARK-", 0) == 0;
  });
  for (auto& [ca, c] : parsed) {
    bool is_ark = ca->kind == CertKind::kArk || c.subject_cn().rfind("ARK-", 0) == 0;
    if (is_ark) {
      if (ca->supplied && c.subject_cn() != anchor->ark->subject_cn()) continue;
      if (c.spki_sha256() != anchor->ark->spki_sha256()) {
        return absl::PermissionDeniedError(
            fmt::format("snp: ARK `{}` in the evidence is not the trusted {} ARK", c.subject_cn(),
                        GenerationName(product)));
      }
      auto st = VerifySignedBy(c, c);
      if (!st.ok()) {
        return absl::PermissionDeniedError(
            fmt::format("snp: ARK `{}` in the evidence is not validly self-signed ({})",
                        c.subject_cn(), core::Message(st)));
      }
      continue;
    }
    if (ca->supplied && c.issuer_cn() != anchor->ark->subject_cn()) continue;
    auto st = VerifySignedBy(c, *anchor->ark);
    if (!st.ok()) {
      return absl::PermissionDeniedError(
          fmt::format("snp: CA certificate `{}` in the evidence is not issued by {} ({})",
                      c.subject_cn(), anchor->ark->subject_cn(), core::Message(st)));
    }
    if (c.subject_cn() == vek->issuer_cn() && chain->evidence_intermediate == nullptr) {
      chain->evidence_intermediate = std::make_shared<const Certificate>(std::move(c));
    }
  }
  if (chain->evidence_intermediate != nullptr) {
    chain->intermediate = chain->evidence_intermediate.get();
  } else {
    chain->intermediate = kind == SigningKey::kVlek ? anchor->asvk.get() : anchor->ask.get();
    if (chain->intermediate == nullptr) {
      return absl::PermissionDeniedError(
          fmt::format("snp: no trusted {} for {}", iname, GenerationName(product)));
    }
  }
  auto st = VerifySignedBy(*vek, *chain->intermediate);
  if (!st.ok()) {
    return absl::PermissionDeniedError(
        fmt::format("snp: {} signature does not verify with {} `{}` ({})", vname, iname,
                    chain->intermediate->subject_cn(), core::Message(st)));
  }
  CCB_ASSIGN_OR_RETURN(chain->key, CertificatePublicKey(*vek));
  if (chain->key->type() != crypto::KeyType::kEcP384) {
    return absl::PermissionDeniedError(fmt::format("snp: {} key is {}, expected EC P-384", vname,
                                                   crypto::KeyTypeName(chain->key->type())));
  }
  CCB_ASSIGN_OR_RETURN(chain->ext, ParseVekExtensions(*vek));
  chain->vek = std::move(vek);
  return std::shared_ptr<const Chain>(std::move(chain));
}

absl::StatusOr<std::shared_ptr<const SnpVerifier::Chain>> SnpVerifier::GetChain(
    const Report& report, const Evidence& evidence) const {
  SigningKey kind = report.signing_key();
  CertKind vek_kind = kind == SigningKey::kVlek ? CertKind::kVlek : CertKind::kVcek;
  const EvidenceCert* vek = nullptr;
  std::vector<const EvidenceCert*> cas;  // ASK/ASVK/ARK candidates
  for (const EvidenceCert& c : evidence.certs) {
    if (c.kind == vek_kind && vek == nullptr) vek = &c;
    if (c.kind == CertKind::kArk || c.kind == CertKind::kAsk) cas.push_back(&c);
  }
  std::string fetched;
  std::string_view vek_blob;
  if (vek != nullptr) {
    vek_blob = vek->data;
  } else if (options_.cert_source != nullptr) {
    VekQuery q{report.generation, kind, report.chip_id, report.reported_tcb};
    auto got = options_.cert_source->FetchVek(q);
    if (!got.ok()) {
      // A source without the certificate means the report cannot be endorsed; a source that is
      // down stays Unavailable so callers can tell the two apart.
      absl::StatusCode code = got.status().code() == absl::StatusCode::kUnavailable
                                  ? absl::StatusCode::kUnavailable
                                  : absl::StatusCode::kPermissionDenied;
      return absl::Status(code, fmt::format("snp: cannot get the {}: {}", VekName(kind),
                                            core::Message(got.status())));
    }
    fetched = std::move(*got);
    vek_blob = fetched;
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "snp: the evidence carries no {} and no certificate source is configured", VekName(kind)));
  }

  // The exact bytes (length-prefixed) of everything BuildChain looks at: hashing ~4 KB with
  // std::hash is cheaper than a SHA-256 and collisions only cost a string compare.
  size_t total = 2 + vek_blob.size();
  for (const EvidenceCert* c : cas) total += 12 + c->data.size();
  std::string key;
  key.reserve(total + 32);
  key += static_cast<char>(kind);
  auto add = [&key](std::string_view part, bool supplied) {
    key += fmt::format("{}{}:", supplied ? 's' : 'e', part.size());
    key += part;
  };
  add(vek_blob, false);
  for (const EvidenceCert* c : cas) add(c->data, c->supplied);
  if (auto hit = caches_->chains.Get(key)) return hit;
  CCB_ASSIGN_OR_RETURN(std::shared_ptr<const Chain> chain, BuildChain(vek_blob, cas, kind));
  caches_->chains.Put(std::move(key), chain);
  return chain;
}

size_t SnpVerifier::CachedChainCount() const { return caches_->chains.size(); }

absl::StatusOr<std::shared_ptr<const SnpVerifier::CrlEntry>> SnpVerifier::GetCrl(
    std::string_view blob, const Chain& chain) const {
  std::string key = chain.ark->spki_sha256();
  key += blob;
  if (auto hit = caches_->crls.Get(key)) return hit;
  CCB_ASSIGN_OR_RETURN(Crl crl, ParseCrl(blob));
  auto entry = std::make_shared<CrlEntry>();
  entry->issuer_cn = crl.issuer_cn();
  entry->this_update = crl.this_update();
  entry->next_update = crl.next_update();
  // A CRL of another generation's ARK is remembered as not applying, so it is not re-parsed.
  entry->applies = crl.issuer_cn() == chain.ark->subject_cn();
  if (entry->applies) {
    // Not cached on failure: a forged CRL fails every time.
    CCB_RETURN_IF_ERROR(VerifyCrlSignedBy(crl, *chain.ark));
    for (const std::string& serial : crl.revoked_serials_hex()) entry->revoked.insert(serial);
  }
  std::shared_ptr<const CrlEntry> out = std::move(entry);
  caches_->crls.Put(std::move(key), out);
  return out;
}

absl::Status SnpVerifier::CheckRevocation(const Chain& chain, const Evidence& evidence,
                                          core::TimePoint now) const {
  std::vector<std::string_view> blobs;
  for (const std::string& c : options_.crls) blobs.push_back(c);
  for (const EvidenceCert& c : evidence.certs) {
    if (c.kind == CertKind::kCrl) blobs.push_back(c.data);
  }
  std::string fetched;
  if (options_.cert_source != nullptr) {
    // NotFound/Unavailable: the source has no CRL now; the others still apply.
    auto crl = options_.cert_source->FetchCrl(chain.product, chain.kind);
    if (crl.ok()) {
      fetched = std::move(*crl);
      blobs.push_back(fetched);
    }
  }
  if (blobs.empty()) return absl::OkStatus();
  std::string serial = CertificateSerialHex(*chain.intermediate);
  for (std::string_view blob : blobs) {
    CCB_ASSIGN_OR_RETURN(std::shared_ptr<const CrlEntry> crl, GetCrl(blob, chain));
    if (!crl->applies) continue;
    if (now < crl->this_update) {
      return absl::PermissionDeniedError(fmt::format(
          "snp: {} CRL is not valid before its thisUpdate {} (verification time {})",
          crl->issuer_cn, core::FormatRfc3339(crl->this_update), core::FormatRfc3339(now)));
    }
    if (crl->next_update && now > *crl->next_update && !options_.accept_expired_crls) {
      return absl::PermissionDeniedError(fmt::format(
          "snp: {} CRL expired at its nextUpdate {} (verification time {})", crl->issuer_cn,
          core::FormatRfc3339(*crl->next_update), core::FormatRfc3339(now)));
    }
    if (crl->revoked.contains(serial)) {
      return absl::PermissionDeniedError(fmt::format(
          "snp: {} `{}` (serial {}) is revoked by the {} CRL", IntermediateName(chain.kind),
          chain.intermediate->subject_cn(), serial, chain.ark->subject_cn()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Verification> SnpVerifier::VerifyEvidence(const Evidence& evidence,
                                                         const ExpectedBinding* binding,
                                                         core::TimePoint now) const {
  const Report& parsed = evidence.report;
  if (parsed.version < options_.min_report_version) {
    return absl::PermissionDeniedError(fmt::format("snp: report version {} is below the minimum {}",
                                                   parsed.version, options_.min_report_version));
  }
  if (parsed.signature_algo != kSigAlgoEcdsaP384Sha384) {
    return absl::InvalidArgumentError(
        fmt::format("snp: unsupported SIGNATURE_ALGO {} (expected 1, ECDSA P-384 SHA-384)",
                    parsed.signature_algo));
  }
  SigningKey kind = parsed.signing_key();
  if (kind != SigningKey::kVcek && kind != SigningKey::kVlek) {
    return absl::PermissionDeniedError(
        fmt::format("snp: report SIGNING_KEY is {}, expected VCEK or VLEK", SigningKeyName(kind)));
  }
  // The session binding before anything is fetched: evidence that cannot be for this session
  // (replayed, or made up with a random CHIP_ID) must not cost an outbound request.
  if (binding != nullptr) {
    if (Regularize(binding->report_data_digest, 64) != parsed.report_data) {
      return absl::PermissionDeniedError(fmt::format(
          "snp: REPORT_DATA {} does not match the session binding {}",
          core::HexEncode(parsed.report_data), core::HexEncode(binding->report_data_digest)));
    }
    if (binding->init_data_digest &&
        Regularize(*binding->init_data_digest, 32) != parsed.host_data) {
      return absl::PermissionDeniedError(fmt::format(
          "snp: HOST_DATA {} does not match the init-data digest {}",
          core::HexEncode(parsed.host_data), core::HexEncode(*binding->init_data_digest)));
    }
  }
  CCB_ASSIGN_OR_RETURN(std::shared_ptr<const Chain> chain, GetChain(parsed, evidence));

  CCB_RETURN_IF_ERROR(CheckValidity(*chain->ark, "ARK", now));
  CCB_RETURN_IF_ERROR(CheckValidity(*chain->intermediate, IntermediateName(kind), now));
  CCB_RETURN_IF_ERROR(CheckValidity(*chain->vek, VekName(kind), now));
  CCB_RETURN_IF_ERROR(CheckRevocation(*chain, evidence, now));

  Verification out;
  out.report = parsed;
  Report& report = out.report;
  if (report.generation != Generation::kUnknown && report.generation != chain->product) {
    return absl::PermissionDeniedError(fmt::format("snp: report CPUID says {} but the {} is for {}",
                                                   GenerationName(report.generation), VekName(kind),
                                                   GenerationName(chain->product)));
  }
  if (report.generation == Generation::kUnknown) {
    report.generation = chain->product;
    RedecodeTcbs(report, chain->product);
  }

  CCB_ASSIGN_OR_RETURN(std::string sig, SignatureRawBigEndian(report));
  if (!crypto::VerifyEcdsa(*chain->key, crypto::HashAlg::kSha384, report.signed_bytes(), sig)
           .ok()) {
    return absl::PermissionDeniedError(
        fmt::format("snp: report signature does not verify with the {}", VekName(kind)));
  }

  const Tcb& t = report.reported_tcb;
  const VekExtensions& e = chain->ext;
  if (chain->product == Generation::kTurin) {
    CCB_RETURN_IF_ERROR(CheckSpl(e.fmc_spl, t.fmc.value_or(0), "fmcSPL", "FMC", kind));
  }
  CCB_RETURN_IF_ERROR(CheckSpl(e.bl_spl, t.bootloader, "blSPL", "boot loader", kind));
  CCB_RETURN_IF_ERROR(CheckSpl(e.tee_spl, t.tee, "teeSPL", "TEE", kind));
  CCB_RETURN_IF_ERROR(CheckSpl(e.snp_spl, t.snp, "snpSPL", "SNP", kind));
  CCB_RETURN_IF_ERROR(CheckSpl(e.ucode_spl, t.microcode, "ucodeSPL", "microcode", kind));
  if (kind == SigningKey::kVcek) {
    if (!e.hwid) return absl::PermissionDeniedError("snp: VCEK has no hwID extension");
    if (report.chip_id.substr(0, e.hwid->size()) != *e.hwid) {
      return absl::PermissionDeniedError(fmt::format(
          "snp: CHIP_ID {} does not match the VCEK hwID {}{}", core::HexEncode(report.chip_id),
          core::HexEncode(*e.hwid), report.mask_chip_id() ? " (MASK_CHIP_ID is set)" : ""));
    }
  }
  if (options_.required_vmpl && report.vmpl != *options_.required_vmpl) {
    return absl::PermissionDeniedError(
        fmt::format("snp: VMPL {} is not the required {}", report.vmpl, *options_.required_vmpl));
  }
  out.product = chain->product;
  out.signing_key = kind;
  out.vek = chain->ext;
  out.vek_subject_cn = chain->vek->subject_cn();
  out.claims = ReportClaims(report);
  return out;
}

absl::StatusOr<json::object> SnpVerifier::Verify(const json::value& evidence,
                                                 const ExpectedBinding& binding,
                                                 core::TimePoint now) const {
  CCB_ASSIGN_OR_RETURN(Evidence ev, ParseEvidenceJson(evidence));
  CCB_ASSIGN_OR_RETURN(Verification v, VerifyEvidence(ev, &binding, now));
  return std::move(v.claims);
}

}  // namespace ccburst::evidence::snp
