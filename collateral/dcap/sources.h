// Intel DCAP collateral sources (the I/O side of evidence/dcap, which defines CollateralSource): an
// offline directory in the layout of `testdata/tdx/*/collateral/`, a caching layer (in memory, and
// optionally on disk in the same layout) that serves collateral until its earliest nextUpdate
// and keeps serving still-valid cached collateral when a refresh fails, and Intel PCS v4 / a
// PCCS over HTTPS. Sources are chained: Caching(Pcs) or Caching(OfflineDir).
//
// Offline directory layout (one collateral set; file names as Intel PCS bodies):
//   tcb_info.json  tcb_info_issuer_chain.pem  qe_identity.json  qe_identity_issuer_chain.pem
//   pck_crl.der    pck_crl_issuer_chain.pem   root_ca_crl.der   [root_ca.pem, informational]
// A directory serving several platforms holds one such set per `<FMSPC>` subdirectory (upper-
// case hex, e.g. `B0C06F000000/`), optionally `<FMSPC>-<ca>/` for processor-CA platforms.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "core/clock.h"
#include "evidence/dcap/collateral.h"
#include "net/fetch_gate.h"

namespace ccburst::collateral::dcap {

using evidence::dcap::Collateral;
using evidence::dcap::CollateralSource;

// Reads one collateral set from `dir`. A missing file is NotFound naming it
// ("collateral: missing `dir/tcb_info.json`").
absl::StatusOr<Collateral> LoadCollateralDir(const std::string& dir);
// Writes `c` to `dir` (created if needed) in the same layout, atomically per file.
absl::Status WriteCollateralDir(const Collateral& c, const std::string& dir);

// The earliest nextUpdate of TCB Info, QE Identity and both CRLs (no signature checks): how long
// a cached set may be served. InvalidArgument when an item does not parse.
absl::StatusOr<core::TimePoint> CollateralNextUpdate(const Collateral& c);

// Serves `<root>/<FMSPC>-<ca>/`, `<root>/<FMSPC>/` or, failing those, `<root>/` itself. Files are
// read on every call (wrap it in CachingCollateralSource).
class OfflineDirCollateralSource final : public CollateralSource {
 public:
  explicit OfflineDirCollateralSource(std::string root) : root_(std::move(root)) {}
  absl::StatusOr<std::shared_ptr<const Collateral>> Get(std::string_view fmspc, std::string_view ca,
                                                        core::TimePoint now) const override;

 private:
  std::string root_;
};

struct CachingOptions {
  // Refresh from the inner source this long before the cached set's earliest nextUpdate.
  std::chrono::seconds refresh_margin{std::chrono::hours(24)};
  // When set, sets are also persisted to and read from `<disk_dir>/<FMSPC>-<ca>/`.
  std::optional<std::string> disk_dir;
  // How the inner source is asked (net/fetch_gate.h): on the gate's threads, one fetch per
  // `<FMSPC>-<ca>` at a time, bounded in rate and concurrency; NotFound (an FMSPC PCS does not
  // know) is remembered for `limits.negative_ttl`, other failures back off that key.
  net::FetchGateOptions limits;
};

// In-memory (and optional on-disk) cache in front of `inner`. A cached set is served while
// now < nextUpdate - refresh_margin; after that the inner source is asked through a
// net::FetchGate ("dcap collateral"), and when that fails the cached set is still served until
// its nextUpdate. With nothing valid cached, the inner source's (or the gate's) error is
// returned.
class CachingCollateralSource final : public CollateralSource {
 public:
  CachingCollateralSource(std::shared_ptr<const CollateralSource> inner,
                          CachingOptions options = {});
  absl::StatusOr<std::shared_ptr<const Collateral>> Get(std::string_view fmspc, std::string_view ca,
                                                        core::TimePoint now) const override;

 private:
  struct Entry {
    std::shared_ptr<const Collateral> collateral;
    core::TimePoint next_update;
  };
  std::shared_ptr<const CollateralSource> inner_;
  CachingOptions options_;
  mutable std::mutex mu_;  // guards entries_; never held while the inner source is asked
  mutable std::map<std::string, Entry> entries_;
  mutable net::FetchGate gate_;  // last: no fetch runs while the members above go away
};

// Intel PCS v4's TCB update channel for TCB Info and QE Identity (the `update` query parameter):
// `standard` collateral moves to a new TCB Evaluation Data Number about a year after a TCB
// Recovery event, `early` on the day of disclosure.
enum class TcbUpdateType { kStandard, kEarly };

// "standard" or "early" (the dcap_verifier `tcb_update_type` config value); InvalidArgument
// otherwise.
absl::StatusOr<TcbUpdateType> ParseTcbUpdateType(std::string_view name);
// "standard" / "early".
std::string_view TcbUpdateTypeName(TcbUpdateType type);

struct PcsOptions {
  // Intel PCS: "https://api.trustedservices.intel.com"; a PCCS: "https://pccs.example:8081".
  std::string base_url = "https://api.trustedservices.intel.com";
  // Where the Root CA CRL is fetched from: Intel publishes it at
  // https://certificates.trustedservices.intel.com/IntelSGXRootCA.der; a PCCS serves it at
  // `<base>/sgx/certification/v4/rootcacrl`. Empty: the PCCS path on base_url.
  std::string root_ca_crl_url = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";
  std::optional<std::string> ca_certificate_file;
  std::chrono::milliseconds timeout{10000};
  // Sent as `update=standard|early` on the TCB Info and QE Identity requests.
  TcbUpdateType tcb_update_type = TcbUpdateType::kStandard;
};

// Intel PCS v4 / PCCS client: TCB Info (`/tdx/certification/v4/tcb?fmspc=<FMSPC>&update=<type>`),
// QE Identity (`/tdx/certification/v4/qe/identity?update=<type>`), PCK CRL
// (`/sgx/certification/v4/pckcrl?ca=&encoding=der`) and the Root CA CRL; issuer chains come from
// the URL-encoded PEM response headers (TCB-Info-Issuer-Chain, SGX-Enclave-Identity-Issuer-Chain,
// SGX-PCK-CRL-Issuer-Chain). HTTP 404 (an FMSPC or CA PCS does not know) is NotFound; other
// failures are Unavailable naming the request, carrying the server's Retry-After
// (net::RetryAfterOf). Every call opens its own connections.
class PcsCollateralSource final : public CollateralSource {
 public:
  explicit PcsCollateralSource(PcsOptions options) : options_(std::move(options)) {}
  absl::StatusOr<std::shared_ptr<const Collateral>> Get(std::string_view fmspc, std::string_view ca,
                                                        core::TimePoint now) const override;

 private:
  PcsOptions options_;
};

}  // namespace ccburst::collateral::dcap
