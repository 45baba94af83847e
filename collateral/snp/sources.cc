#include "collateral/snp/sources.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "core/encoding.h"
#include "core/file.h"
#include "net/http_client.h"

namespace ccburst::collateral::snp {
namespace {

namespace fs = std::filesystem;
using evidence::snp::CertSource;
using evidence::snp::Generation;
using evidence::snp::GenerationName;
using evidence::snp::SigningKey;
using evidence::snp::VekQuery;

bool HasCertExtension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".der" || ext == ".pem" || ext == ".crt" || ext == ".cer" || ext == ".crl";
}

// HTTP clients for the gate's threads: a client is not thread-safe, and each keeps its
// connection to KDS alive between fetches.
class ClientPool {
 public:
  ClientPool(net::HttpClientOptions options, std::unique_ptr<net::HttpClient> first)
      : options_(std::move(options)) {
    idle_.push_back(std::move(first));
  }
  absl::StatusOr<std::unique_ptr<net::HttpClient>> Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    return net::HttpClient::Create(options_);
  }
  void Return(std::unique_ptr<net::HttpClient> c) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(c));
  }

 private:
  net::HttpClientOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<net::HttpClient>> idle_;
};

class KdsCertSource final : public CertSource {
 public:
  KdsCertSource(KdsOptions options, net::HttpClientOptions http,
                std::unique_ptr<net::HttpClient> client)
      : options_(std::move(options)),
        clients_(std::move(http), std::move(client)),
        gate_("snp kds", GateOptions(options_)) {}

  absl::StatusOr<std::string> FetchVek(const VekQuery& q) const override {
    if (q.kind != SigningKey::kVcek) {
      return absl::NotFoundError("snp kds: VLEKs are only available from the cloud provider");
    }
    std::vector<Generation> products;
    if (q.product == Generation::kUnknown) {
      products = {Generation::kMilan, Generation::kGenoa};
    } else {
      products = {q.product};
    }
    // A chip KDS did not know is not asked about again (with any TCB) for a while: an attacker's
    // random CHIP_IDs cost one fetch each, and the token bucket bounds those.
    std::string chip = core::HexEncode(q.chip_id);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = unknown_chips_.find(chip);
      if (it != unknown_chips_.end()) {
        if (Now() < it->second) {
          return absl::NotFoundError(
              fmt::format("snp kds: chip {} is unknown to KDS (not asked again until {})",
                          chip.substr(0, 16), core::FormatRfc3339(it->second)));
        }
        unknown_chips_.erase(it);
      }
    }
    absl::Status last = absl::NotFoundError("snp kds: no product to ask for");
    for (Generation p : products) {
      auto got = FetchOne(p, q);
      if (got.ok() || got.status().code() != absl::StatusCode::kNotFound) return got;
      last = got.status();
    }
    std::lock_guard<std::mutex> lock(mu_);
    core::TimePoint now = Now();
    if (unknown_chips_.size() >= kMaxUnknownChips) {
      std::erase_if(unknown_chips_, [now](const auto& kv) { return kv.second <= now; });
    }
    if (unknown_chips_.size() < kMaxUnknownChips) {
      unknown_chips_[chip] = now + options_.limits.negative_ttl;
    }
    return last;
  }

  absl::StatusOr<std::string> FetchCrl(Generation product, SigningKey kind) const override {
    if (product == Generation::kUnknown) return absl::NotFoundError("snp kds: unknown product");
    if (kind != SigningKey::kVcek && kind != SigningKey::kVlek) {
      return absl::NotFoundError("snp kds: no CRL for this signing key");
    }
    auto key = std::make_pair(product, kind);
    std::optional<std::string> stale;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = crls_.find(key);
      if (it != crls_.end()) {
        if (Now() < it->second.refresh_at) return it->second.der;
        stale = it->second.der;
      }
    }
    std::string path = KdsCrlPath(product, kind);
    auto got = gate_.Fetch(path, [this, path, key] {
      FetchOutcome out = Get(path);
      if (out.body.ok()) {
        // Asked again after a day, or as soon as the CRL's nextUpdate has passed.
        core::TimePoint refresh_at = Now() + kCrlTtl;
        if (auto crl = evidence::snp::ParseCrl(*out.body); crl.ok() && crl->next_update()) {
          refresh_at = std::min(refresh_at, *crl->next_update());
        }
        std::lock_guard<std::mutex> lock(mu_);
        crls_[key] = CachedCrl{refresh_at, *out.body};
      }
      return out;
    });
    // Serve a stale CRL rather than none while KDS fails (the verifier still checks its
    // nextUpdate).
    if (!got.ok() && stale) return *stale;
    return got;
  }

 private:
  using FetchOutcome = net::FetchOutcome;
  static constexpr std::chrono::hours kCrlTtl{24};
  static constexpr size_t kMaxUnknownChips = 100000;

  static net::FetchGateOptions GateOptions(const KdsOptions& o) {
    net::FetchGateOptions g = o.limits;
    if (g.clock == nullptr) g.clock = o.clock;
    return g;
  }

  core::TimePoint Now() const {
    return options_.clock != nullptr ? options_.clock->Now() : core::SystemClock::Get().Now();
  }

  // One GET on a gate thread: 200 is the body, 404 NotFound, anything else Unavailable (with
  // the server's Retry-After, which the gate caps).
  FetchOutcome Get(const std::string& path) const {
    auto client = clients_.Take();
    if (!client.ok()) {
      return {absl::UnavailableError(fmt::format("snp kds: {}", core::Message(client.status()))),
              std::nullopt};
    }
    auto resp = (*client)->Send("GET", path);
    clients_.Return(*std::move(client));
    if (!resp.ok()) {
      return {absl::UnavailableError(
                  fmt::format("snp kds: GET {}: {}", path, core::Message(resp.status()))),
              std::nullopt};
    }
    if (resp->status == 200) return {std::move(resp->body), std::nullopt};
    if (resp->status == 404) {
      return {absl::NotFoundError(fmt::format("snp kds: GET {}: 404 not found", path)),
              std::nullopt};
    }
    std::optional<std::chrono::seconds> retry;
    if (auto ra = resp->Header("Retry-After")) retry = net::ParseRetryAfter(*ra);
    return {absl::UnavailableError(fmt::format("snp kds: GET {}: HTTP {}{}", path, resp->status,
                                               resp->status == 429 ? " (rate limited)" : "")),
            retry};
  }

  absl::StatusOr<std::string> FetchOne(Generation p, const VekQuery& q) const {
    std::string key = OfflineStorePath(p, q, true);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = memory_.find(key); it != memory_.end()) return it->second;
    }
    if (!options_.cache_dir.empty()) {
      auto disk = core::ReadFile((fs::path(options_.cache_dir) / key).string());
      if (disk.ok() && !disk->empty()) {
        std::lock_guard<std::mutex> lock(mu_);
        memory_[key] = *disk;
        return std::move(*disk);
      }
    }
    std::string path = KdsVcekPath(p, q);
    return gate_.Fetch(path, [this, path, key] {
      FetchOutcome out = Get(path);
      if (out.body.ok()) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          memory_[key] = *out.body;
        }
        if (!options_.cache_dir.empty()) WriteCache(key, *out.body);
      }
      return out;
    });
  }

  void WriteCache(const std::string& key, const std::string& der) const {
    std::error_code ec;
    fs::path final_path = fs::path(options_.cache_dir) / key;
    fs::create_directories(final_path.parent_path(), ec);
    fs::path tmp = final_path;
    tmp += fmt::format(".tmp.{}", std::hash<std::thread::id>()(std::this_thread::get_id()));
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(der.data(), static_cast<std::streamsize>(der.size()));
      if (!out) return;  // the cache is an optimisation; the memory copy still serves
    }
    fs::rename(tmp, final_path, ec);
  }

  KdsOptions options_;
  mutable ClientPool clients_;
  // Guards the caches below; never held while KDS is asked.
  mutable std::mutex mu_;
  mutable std::map<std::string, std::string> memory_;
  struct CachedCrl {
    core::TimePoint refresh_at;
    std::string der;
  };
  mutable std::map<std::pair<Generation, SigningKey>, CachedCrl> crls_;
  mutable std::map<std::string, core::TimePoint> unknown_chips_;  // hwID hex -> asked again at
  // Last: destroyed first, so no fetch runs while the members above go away.
  mutable net::FetchGate gate_;
};

class OfflineStoreCertSource final : public CertSource {
 public:
  explicit OfflineStoreCertSource(std::string root) : root_(std::move(root)) {}

  absl::StatusOr<std::string> FetchVek(const VekQuery& q) const override {
    if (q.kind != SigningKey::kVcek) {
      return absl::NotFoundError("snp offline store: holds VCEKs only");
    }
    for (bool with_tcb : {true, false}) {
      fs::path p = fs::path(root_) / OfflineStorePath(q.product, q, with_tcb);
      auto der = core::ReadFile(p.string());
      if (der.ok()) return der;
    }
    return absl::NotFoundError(
        fmt::format("snp offline store: no `{}` (nor `vcek.der` beside it)",
                    (fs::path(root_) / OfflineStorePath(q.product, q, true)).string()));
  }

 private:
  std::string root_;
};

class ChainedCertSource final : public CertSource {
 public:
  explicit ChainedCertSource(std::vector<std::shared_ptr<const CertSource>> sources)
      : sources_(std::move(sources)) {}

  absl::StatusOr<std::string> FetchVek(const VekQuery& q) const override {
    absl::Status last = absl::NotFoundError("snp: no certificate source configured");
    for (const auto& s : sources_) {
      auto got = s->FetchVek(q);
      if (got.ok()) return got;
      last = got.status();
    }
    return last;
  }

  absl::StatusOr<std::string> FetchCrl(Generation product, SigningKey kind) const override {
    absl::Status last = absl::NotFoundError("snp: no CRL source configured");
    for (const auto& s : sources_) {
      auto got = s->FetchCrl(product, kind);
      if (got.ok()) return got;
      last = got.status();
    }
    return last;
  }

 private:
  std::vector<std::shared_ptr<const CertSource>> sources_;
};

}  // namespace

absl::StatusOr<std::vector<std::string>> LoadCertificateDir(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return absl::NotFoundError(fmt::format("cannot read `{}`: {}", dir, ec.message()));
  }
  std::vector<fs::path> paths;
  for (const fs::directory_entry& e : it) {
    if (e.is_regular_file(ec) && HasCertExtension(e.path())) paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> out;
  for (const fs::path& p : paths) {
    CCB_ASSIGN_OR_RETURN(std::string data, core::ReadFile(p.string()));
    out.push_back(std::move(data));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const CertSource>> NewDirectoryCertSource(const std::string& dir) {
  CCB_ASSIGN_OR_RETURN(std::vector<std::string> blobs, LoadCertificateDir(dir));
  // CRL files are for the operator command (apps/verify_command); a KBS gets its CRLs from KDS.
  std::erase_if(blobs, [](const std::string& b) { return evidence::snp::ParseCrl(b).ok(); });
  return evidence::snp::NewStaticCertSource(blobs);
}

std::string OfflineStorePath(Generation product, const VekQuery& q, bool with_tcb) {
  std::string hwid = q.chip_id.substr(0, product == Generation::kTurin ? 8 : 64);
  std::string dir = fmt::format("vcek/{}/", core::HexEncode(hwid));
  if (!with_tcb) return dir + "vcek.der";
  const evidence::snp::Tcb& t = q.reported_tcb;
  std::string name =
      fmt::format("bl{:02}_tee{:02}_snp{:02}_ucode{:02}", t.bootloader, t.tee, t.snp, t.microcode);
  if (product == Generation::kTurin) name += fmt::format("_fmc{:02}", t.fmc.value_or(0));
  return dir + name + "_vcek.der";
}

std::shared_ptr<const CertSource> NewOfflineStoreCertSource(const std::string& root) {
  return std::make_shared<OfflineStoreCertSource>(root);
}

std::string KdsVcekPath(Generation product, const VekQuery& q) {
  bool turin = product == Generation::kTurin;
  std::string hwid = q.chip_id.substr(0, turin ? 8 : 64);
  std::string path = fmt::format("/vcek/v1/{}/{}?", GenerationName(product), core::HexEncode(hwid));
  if (turin) path += fmt::format("fmcSPL={:02}&", q.reported_tcb.fmc.value_or(0));
  path +=
      fmt::format("blSPL={:02}&teeSPL={:02}&snpSPL={:02}&ucodeSPL={:02}", q.reported_tcb.bootloader,
                  q.reported_tcb.tee, q.reported_tcb.snp, q.reported_tcb.microcode);
  return path;
}

std::string KdsCrlPath(Generation product, SigningKey kind) {
  return fmt::format("/{}/v1/{}/crl", kind == SigningKey::kVlek ? "vlek" : "vcek",
                     GenerationName(product));
}

absl::StatusOr<std::shared_ptr<const CertSource>> NewKdsCertSource(KdsOptions options) {
  net::HttpClientOptions http;
  http.base_url = options.base_url;
  http.ca_certificate_file = options.ca_certificate_file;
  http.timeout = options.timeout;
  http.max_response_bytes = 64 * 1024;
  CCB_ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> client, net::HttpClient::Create(http));
  return std::shared_ptr<const CertSource>(
      std::make_shared<KdsCertSource>(std::move(options), http, std::move(client)));
}

std::shared_ptr<const CertSource> NewChainedCertSource(
    std::vector<std::shared_ptr<const CertSource>> sources) {
  return std::make_shared<ChainedCertSource>(std::move(sources));
}

}  // namespace ccburst::collateral::snp
