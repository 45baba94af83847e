// Where SEV-SNP endorsement keys come from when the evidence does not carry them (I/O side of
// evidence/snp, which defines the CertSource interface):
//  - an operator directory of VCEK/VLEK/ASK/ARK files (DER or PEM, any names);
//  - AMD's Key Distribution Service (KDS), `GET /vcek/v1/{product}/{hwid}?blSPL=..&teeSPL=..&
//    snpSPL=..&ucodeSPL=..[&fmcSPL=..]`, with an in-memory cache, an optional on-disk cache (one
//    DER file per chip and TCB in Trustee's OfflineStore layout, shared across restarts and
//    replicas), fetched through a net::FetchGate (bounded, coalesced, negatively cached, backing
//    off per path), because anyone can make a verifier ask about a chip, KDS rate-limits (HTTP
//    429) and a KBS must not hammer it;
//  - a Trustee "OfflineStore" directory (vcek/<hwid>/<tcb>_vcek.der).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "evidence/snp/verifier.h"
#include "net/fetch_gate.h"

namespace ccburst::collateral::snp {

// The contents of every regular file in `dir` whose name ends in .der, .pem, .crt, .cer or .crl
// (not recursive), sorted by name. A missing or unreadable directory is NotFound.
absl::StatusOr<std::vector<std::string>> LoadCertificateDir(const std::string& dir);

// A CertSource over the certificates in `dir`, read once now (see NewStaticCertSource for how a
// VCEK/VLEK is chosen); CRL files are skipped. Errors as LoadCertificateDir, or InvalidArgument
// for an unparseable file.
absl::StatusOr<std::shared_ptr<const evidence::snp::CertSource>> NewDirectoryCertSource(
    const std::string& dir);

// Trustee's "OfflineStore" layout under `root`: `vcek/<hwid hex>/<tcb>_vcek.der`, where <tcb> is
// `bl{BL:02}_tee{TEE:02}_snp{SNP:02}_ucode{UCODE:02}` (+ `_fmc{FMC:02}` on Turin) and hwID is 8
// bytes on Turin, 64 otherwise; falls back to `vcek/<hwid hex>/vcek.der`. Files are read per
// request (no cache: the operator may add files at any time). Missing files are NotFound.
std::shared_ptr<const evidence::snp::CertSource> NewOfflineStoreCertSource(const std::string& root);
// The relative path above, with or without the TCB prefix.
std::string OfflineStorePath(evidence::snp::Generation product,
                             const evidence::snp::VekQuery& query, bool with_tcb);

struct KdsOptions {
  std::string base_url = "https://kdsintf.amd.com";
  // PEM trust anchors for base_url; the system roots when absent.
  std::optional<std::string> ca_certificate_file;
  // On-disk cache directory in the OfflineStore layout (created if missing); empty disables it.
  std::string cache_dir;
  std::chrono::milliseconds timeout{10000};
  // How KDS is asked (see net/fetch_gate.h): a few fetches at a time on their own threads, one
  // per key (KDS path), new ones from a token bucket; a 404 is remembered for
  // `limits.negative_ttl` (for the chip: an unknown CHIP_ID is not asked about again with other
  // TCB values either); other failures back off that path, a Retry-After at most
  // `limits.max_retry_after`. `limits.clock` defaults to `clock`.
  net::FetchGateOptions limits;
  // Time source for the caches and back-off; the system clock when null.
  const core::Clock* clock = nullptr;
};

// A CertSource fetching VCEKs from AMD KDS. For v2 reports (generation unknown) Milan then Genoa
// are tried. VLEKs are not served by KDS without CSP credentials: NotFound. KDS 404 is NotFound
// (and the chip is then refused without asking for `limits.negative_ttl`: "snp kds: chip <hwid>
// is unknown to KDS ..."); connection failures, 429 and 5xx are Unavailable and back off the
// path they answered, during which requests for it fail fast with Unavailable "snp kds: backing
// off <path> until <time>"; the gate's own refusals (rate, queue, wait) are Unavailable too. A
// bad base URL or CA file is InvalidArgument. FetchCrl gets the ARK-signed CRL
// `/vcek/v1/{product}/crl` (revoked ASKs) for VCEK chains and `/vlek/v1/{product}/crl` (revoked
// ASVKs) for VLEK chains, kept in memory and asked again after 24 hours or once its nextUpdate
// has passed; while KDS fails the last copy is served (the verifier refuses it once past its
// nextUpdate), else KDS 404 is NotFound and other failures Unavailable (both skip the check).
absl::StatusOr<std::shared_ptr<const evidence::snp::CertSource>> NewKdsCertSource(
    KdsOptions options);

// Tries `sources` in order and returns the first certificate found; when none has one, the last
// error (NotFound when `sources` is empty).
std::shared_ptr<const evidence::snp::CertSource> NewChainedCertSource(
    std::vector<std::shared_ptr<const evidence::snp::CertSource>> sources);

// The KDS path for a query: "/vcek/v1/Genoa/<hwid hex>?blSPL=10&teeSPL=0&snpSPL=23&ucodeSPL=84"
// (Turin: 8-byte hwID and fmcSPL). `product` must be known.
std::string KdsVcekPath(evidence::snp::Generation product, const evidence::snp::VekQuery& query);

// The KDS path of the ARK's CRL for the intermediate of a `kind` chain: "/vcek/v1/Genoa/crl"
// (ASKs) or "/vlek/v1/Genoa/crl" (ASVKs). `product` must be known.
std::string KdsCrlPath(evidence::snp::Generation product, evidence::snp::SigningKey kind);

}  // namespace ccburst::collateral::snp
