#include "collateral/dcap/sources.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/encoding.h"
#include "core/file.h"
#include "evidence/dcap/certificates.h"
#include "evidence/dcap/collateral.h"
#include "net/http_client.h"
#include "net/url.h"

namespace ccburst::collateral::dcap {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct FileField {
  const char* name;
  std::string Collateral::*member;
};
constexpr FileField kFiles[] = {
    {"tcb_info.json", &Collateral::tcb_info_json},
    {"tcb_info_issuer_chain.pem", &Collateral::tcb_info_issuer_chain},
    {"qe_identity.json", &Collateral::qe_identity_json},
    {"qe_identity_issuer_chain.pem", &Collateral::qe_identity_issuer_chain},
    {"pck_crl.der", &Collateral::pck_crl},
    {"pck_crl_issuer_chain.pem", &Collateral::pck_crl_issuer_chain},
    {"root_ca_crl.der", &Collateral::root_ca_crl},
};

std::string FmspcHex(std::string_view fmspc) {
  std::string h = core::HexEncode(fmspc);
  for (char& c : h) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return h;
}

std::string Key(std::string_view fmspc, std::string_view ca) {
  return fmt::format("{}-{}", FmspcHex(fmspc), ca);
}

// Splits "https://host:port/prefix/path?q" into ("https://host:port", "/prefix/path?q").
std::pair<std::string, std::string> SplitUrl(std::string_view url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (slash == std::string_view::npos) return {std::string(url), "/"};
  return {std::string(url.substr(0, slash)), std::string(url.substr(slash))};
}

struct Fetched {
  std::string body;
  std::string issuer_chain;
};

absl::StatusOr<Fetched> Fetch(const PcsOptions& o, const std::string& url,
                              std::string_view chain_header, std::string_view what) {
  auto [base, path] = SplitUrl(url);
  net::HttpClientOptions http;
  http.base_url = base;
  http.ca_certificate_file = o.ca_certificate_file;
  http.timeout = o.timeout;
  auto client = net::HttpClient::Create(http);
  if (!client.ok()) {
    return absl::UnavailableError(fmt::format("pcs: {}: {}", what, core::Message(client.status())));
  }
  auto resp = (*client)->Send("GET", path);
  if (!resp.ok()) {
    return absl::UnavailableError(fmt::format("pcs: {}: {}", what, core::Message(resp.status())));
  }
  if (resp->status == 404) {
    return absl::NotFoundError(fmt::format("pcs: {}: GET {} returned HTTP 404", what, url));
  }
  if (resp->status != 200) {
    absl::Status err = absl::UnavailableError(
        fmt::format("pcs: {}: GET {} returned HTTP {}", what, url, resp->status));
    if (auto ra = resp->Header("Retry-After")) {
      if (auto secs = net::ParseRetryAfter(*ra)) err = net::WithRetryAfter(std::move(err), *secs);
    }
    return err;
  }
  Fetched f;
  f.body = std::move(resp->body);
  if (!chain_header.empty()) {
    auto h = resp->Header(chain_header);
    if (!h) {
      return absl::UnavailableError(
          fmt::format("pcs: {}: response has no {} header", what, chain_header));
    }
    auto chain = net::PercentDecode(*h);
    if (!chain.ok()) {
      return absl::UnavailableError(fmt::format("pcs: {}: bad {} header", what, chain_header));
    }
    f.issuer_chain = *std::move(chain);
  }
  return f;
}

absl::Status WriteFileAtomic(const fs::path& path, std::string_view data) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out)
      return absl::UnavailableError(fmt::format("collateral: cannot write `{}`", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("collateral: cannot rename `{}`: {}", tmp.string(), ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Collateral> LoadCollateralDir(const std::string& dir) {
  Collateral c;
  for (const auto& f : kFiles) {
    std::string path = (fs::path(dir) / f.name).string();
    auto data = core::ReadFile(path);
    if (!data.ok()) return absl::NotFoundError(fmt::format("collateral: missing `{}`", path));
    c.*f.member = *std::move(data);
  }
  return c;
}

absl::Status WriteCollateralDir(const Collateral& c, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("collateral: cannot create `{}`: {}", dir, ec.message()));
  }
  for (const auto& f : kFiles) {
    CCB_RETURN_IF_ERROR(WriteFileAtomic(fs::path(dir) / f.name, c.*f.member));
  }
  return absl::OkStatus();
}

absl::StatusOr<core::TimePoint> CollateralNextUpdate(const Collateral& c) {
  using namespace evidence::dcap;
  CCB_ASSIGN_OR_RETURN(SignedBody tcb, SplitSignedBody(c.tcb_info_json, "tcbInfo", "tcb info"));
  CCB_ASSIGN_OR_RETURN(TcbInfo info, ParseTcbInfo(tcb.inner));
  CCB_ASSIGN_OR_RETURN(SignedBody qe,
                       SplitSignedBody(c.qe_identity_json, "enclaveIdentity", "qe identity"));
  CCB_ASSIGN_OR_RETURN(QeIdentity identity, ParseQeIdentity(qe.inner));
  // Once per refresh, not per verification: decoded here and again by the verifier's cache.
  CCB_ASSIGN_OR_RETURN(crypto::Crl pck_crl, crypto::Crl::Parse(c.pck_crl, "tdx: pck crl"));
  CCB_ASSIGN_OR_RETURN(crypto::Crl root_crl, crypto::Crl::Parse(c.root_ca_crl, "tdx: root ca crl"));
  return std::min({info.next_update_time, identity.next_update_time, CrlNextUpdate(pck_crl),
                   CrlNextUpdate(root_crl)});
}

absl::StatusOr<std::shared_ptr<const Collateral>> OfflineDirCollateralSource::Get(
    std::string_view fmspc, std::string_view ca, core::TimePoint) const {
  for (const fs::path& dir :
       {fs::path(root_) / Key(fmspc, ca), fs::path(root_) / FmspcHex(fmspc)}) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) {
      CCB_ASSIGN_OR_RETURN(Collateral c, LoadCollateralDir(dir.string()));
      return std::make_shared<const Collateral>(std::move(c));
    }
  }
  std::error_code ec;
  if (!fs::exists(fs::path(root_) / "tcb_info.json", ec)) {
    return absl::NotFoundError(
        fmt::format("no collateral for fmspc {} (ca {}) in `{}`", FmspcHex(fmspc), ca, root_));
  }
  CCB_ASSIGN_OR_RETURN(Collateral c, LoadCollateralDir(root_));
  return std::make_shared<const Collateral>(std::move(c));
}

CachingCollateralSource::CachingCollateralSource(std::shared_ptr<const CollateralSource> inner,
                                                 CachingOptions options)
    : inner_(std::move(inner)),
      options_(std::move(options)),
      gate_("dcap collateral", options_.limits) {}

absl::StatusOr<std::shared_ptr<const Collateral>> CachingCollateralSource::Get(
    std::string_view fmspc, std::string_view ca, core::TimePoint now) const {
  std::string key = Key(fmspc, ca);
  std::optional<Entry> cached;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) cached = it->second;
  }
  if (!cached && options_.disk_dir) {
    auto c = LoadCollateralDir((fs::path(*options_.disk_dir) / key).string());
    if (c.ok()) {
      auto next = CollateralNextUpdate(*c);
      if (next.ok()) {
        cached = Entry{std::make_shared<const Collateral>(*std::move(c)), *next};
        std::lock_guard<std::mutex> lock(mu_);
        entries_[key] = *cached;
      }
    }
  }
  if (cached && now + options_.refresh_margin < cached->next_update) return cached->collateral;

  // On a gate thread: the fresh set replaces the cached one unless it is older; a set that
  // arrives after its requester stopped waiting still lands in the cache.
  std::string fmspc_copy(fmspc), ca_copy(ca);
  std::shared_ptr<std::shared_ptr<const Collateral>> fresh_out =
      std::make_shared<std::shared_ptr<const Collateral>>();
  auto fetched = gate_.Fetch(key, [this, key, fmspc_copy, ca_copy, now, fresh_out] {
    auto fresh = inner_->Get(fmspc_copy, ca_copy, now);
    if (!fresh.ok()) return net::FetchOutcome{fresh.status(), std::nullopt};
    auto next = CollateralNextUpdate(**fresh);
    if (!next.ok()) return net::FetchOutcome{next.status(), std::nullopt};
    *fresh_out = *fresh;
    bool newer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(key);
      newer = it == entries_.end() || *next >= it->second.next_update;
      if (newer) entries_[key] = Entry{*fresh, *next};
    }
    if (newer && options_.disk_dir) {
      // Persisting is best effort: the set is already cached in memory.
      (void)WriteCollateralDir(**fresh, (fs::path(*options_.disk_dir) / key).string());
    }
    return net::FetchOutcome{std::string(), std::nullopt};
  });
  std::optional<Entry> now_cached;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) now_cached = it->second;
  }
  if (fetched.ok() && now_cached && (!cached || now_cached->next_update > cached->next_update)) {
    return now_cached->collateral;
  }
  if (cached && now < cached->next_update) return cached->collateral;
  if (!fetched.ok()) return fetched.status();
  // The fresh set was older than the (expired) cached one: the verifier judges it.
  if (*fresh_out != nullptr) return *fresh_out;
  if (now_cached) return now_cached->collateral;
  return absl::UnavailableError(fmt::format("dcap collateral: no collateral for {}", key));
}

absl::StatusOr<TcbUpdateType> ParseTcbUpdateType(std::string_view name) {
  if (name == "standard") return TcbUpdateType::kStandard;
  if (name == "early") return TcbUpdateType::kEarly;
  return absl::InvalidArgumentError(
      fmt::format("tcb update type `{}` is not `standard` or `early`", name));
}

std::string_view TcbUpdateTypeName(TcbUpdateType type) {
  return type == TcbUpdateType::kEarly ? "early" : "standard";
}

absl::StatusOr<std::shared_ptr<const Collateral>> PcsCollateralSource::Get(std::string_view fmspc,
                                                                           std::string_view ca,
                                                                           core::TimePoint) const {
  std::string base = options_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string_view update = TcbUpdateTypeName(options_.tcb_update_type);
  Collateral c;
  CCB_ASSIGN_OR_RETURN(Fetched tcb,
                       Fetch(options_,
                             fmt::format("{}/tdx/certification/v4/tcb?fmspc={}&update={}", base,
                                         FmspcHex(fmspc), update),
                             "TCB-Info-Issuer-Chain", "tcb info"));
  c.tcb_info_json = std::move(tcb.body);
  c.tcb_info_issuer_chain = std::move(tcb.issuer_chain);
  CCB_ASSIGN_OR_RETURN(
      Fetched qe,
      Fetch(options_, fmt::format("{}/tdx/certification/v4/qe/identity?update={}", base, update),
            "SGX-Enclave-Identity-Issuer-Chain", "qe identity"));
  c.qe_identity_json = std::move(qe.body);
  c.qe_identity_issuer_chain = std::move(qe.issuer_chain);
  CCB_ASSIGN_OR_RETURN(
      Fetched crl,
      Fetch(options_, fmt::format("{}/sgx/certification/v4/pckcrl?ca={}&encoding=der", base, ca),
            "SGX-PCK-CRL-Issuer-Chain", "pck crl"));
  c.pck_crl = std::move(crl.body);
  c.pck_crl_issuer_chain = std::move(crl.issuer_chain);
  std::string root_url = options_.root_ca_crl_url.empty() ? base + "/sgx/certification/v4/rootcacrl"
                                                          : options_.root_ca_crl_url;
  CCB_ASSIGN_OR_RETURN(Fetched root, Fetch(options_, root_url, "", "root ca crl"));
  // A PCCS serves the Root CA CRL as hex text.
  if (!root.body.empty() && root.body[0] != 0x30) {
    auto der = core::HexDecode(root.body);
    if (der.ok()) root.body = *std::move(der);
  }
  c.root_ca_crl = std::move(root.body);
  return std::make_shared<const Collateral>(std::move(c));
}

}  // namespace ccburst::collateral::dcap
