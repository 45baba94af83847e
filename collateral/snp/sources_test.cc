#include "collateral/snp/sources.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "crypto/key.h"
#include "crypto/openssl.h"
#include "evidence/snp/testing/generator.h"
#include "net/http_server.h"

namespace ccburst::collateral::snp {
namespace {

namespace fs = std::filesystem;
using ::ccburst::core::testing::FakeClock;
using ::ccburst::core::testing::StatusIs;
using evidence::snp::Generation;
using evidence::snp::SigningKey;
using evidence::snp::VekQuery;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string S5(std::string_view file) {
  return fmt::format("{}/testdata/snp/s5-genoa-v3-tsm/{}", CCB_SHARED_DIR, file);
}

VekQuery S5Query() {
  auto report = evidence::snp::ParseReport(*core::ReadFile(S5("report.bin")));
  EXPECT_OK(report);
  return VekQuery{report->generation, SigningKey::kVcek, report->chip_id, report->reported_tcb};
}

fs::path TempDir(std::string_view name) {
  fs::path p = fs::path(CCB_BINARY_DIR) / "collateral_snp_test" / std::string(name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

TEST(DirectorySourceTest, FindsTheVcekAmongDerAndPemFiles) {
  auto src = NewDirectoryCertSource(S5("certs"));
  ASSERT_OK(src);
  auto der = (*src)->FetchVek(S5Query());
  ASSERT_OK(der);
  EXPECT_TRUE(*der == *core::ReadFile(S5("certs/vcek.der")));
  VekQuery vlek = S5Query();
  vlek.kind = SigningKey::kVlek;
  EXPECT_THAT((*src)->FetchVek(vlek), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(NewDirectoryCertSource("/nonexistent/snp"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(KdsPathTest, MatchesAmdKdsLayout) {
  VekQuery q = S5Query();
  EXPECT_EQ(KdsVcekPath(Generation::kGenoa, q), "/vcek/v1/Genoa/" + core::HexEncode(q.chip_id) +
                                                    "?blSPL=10&teeSPL=00&snpSPL=23&ucodeSPL=84");
  q.reported_tcb.fmc = 3;
  EXPECT_EQ(KdsVcekPath(Generation::kTurin, q),
            "/vcek/v1/Turin/" + core::HexEncode(q.chip_id.substr(0, 8)) +
                "?fmcSPL=03&blSPL=10&teeSPL=00&snpSPL=23&ucodeSPL=84");
}

class KdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vcek_ = *core::ReadFile(S5("vcek.der"));
    net::HttpServerOptions o;
    o.sockets = {"127.0.0.1:0"};
    o.threads = 1;
    auto server = net::HttpServer::Start(o, [this](const net::HttpRequest& req) {
      ++requests_;
      last_target_ = req.target;
      if (int ms = hang_ms_.load(); ms > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      net::HttpResponse resp;
      resp.status = status_.load();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!limited_.empty() && req.target.find(limited_) != std::string::npos) {
          resp.status = 429;
          resp.SetHeader("Retry-After", "86400");
          return resp;
        }
      }
      if (resp.status == 200) {
        std::lock_guard<std::mutex> lock(mu_);
        auto crl = crls_.find(req.path);
        resp.body = crl != crls_.end()           ? crl->second
                    : req.path.ends_with("/crl") ? std::string("CRL")
                                                 : vcek_;
      }
      if (resp.status == 429) resp.SetHeader("Retry-After", "30");
      return resp;
    });
    ASSERT_OK(server);
    server_ = std::move(*server);
  }

  KdsOptions Options(const fs::path& cache) {
    KdsOptions o;
    o.base_url = fmt::format("http://127.0.0.1:{}", server_->ports()[0]);
    o.cache_dir = cache.string();
    o.clock = &clock_;
    return o;
  }

  void ServeCrl(const std::string& path, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    crls_[path] = std::move(body);
  }

  std::string vcek_;
  std::mutex mu_;
  std::map<std::string, std::string> crls_;  // path -> body
  std::atomic<int> status_{200};
  std::atomic<int> hang_ms_{0};
  std::string limited_;  // a target containing this is answered 429 Retry-After: 86400
  std::atomic<int> requests_{0};
  std::string last_target_;
  FakeClock clock_{core::FromUnixSeconds(1767225600)};
  std::unique_ptr<net::HttpServer> server_;
};

TEST_F(KdsTest, FetchesOnceThenServesFromMemoryAndDisk) {
  fs::path cache = TempDir("kds-cache");
  auto src = NewKdsCertSource(Options(cache));
  ASSERT_OK(src);
  VekQuery q = S5Query();
  for (int i = 0; i < 3; ++i) {
    auto der = (*src)->FetchVek(q);
    ASSERT_OK(der);
    EXPECT_TRUE(*der == vcek_);
  }
  EXPECT_EQ(requests_.load(), 1);
  EXPECT_EQ(last_target_, KdsVcekPath(Generation::kGenoa, q));
  // A new source (restart) with KDS down uses the disk cache.
  status_ = 503;
  auto again = NewKdsCertSource(Options(cache));
  auto der = (*again)->FetchVek(q);
  ASSERT_OK(der);
  EXPECT_EQ(requests_.load(), 1);

  // End to end: the verifier gets the VCEK from KDS for a raw report.
  evidence::snp::SnpVerifierOptions vo;
  vo.cert_source = *again;
  auto verifier = evidence::snp::SnpVerifier::Create(vo);
  ASSERT_OK(verifier);
  auto ev = evidence::snp::ParseEvidenceBytes(*core::ReadFile(S5("report.bin")));
  ASSERT_OK(ev);
  auto r = (*verifier)->VerifyEvidence(*ev, nullptr, *core::ParseRfc3339("2026-01-01T00:00:00Z"));
  EXPECT_OK(r);
}

TEST_F(KdsTest, DiskCacheIsATrusteeOfflineStore) {
  fs::path cache = TempDir("kds-offline");
  auto src = NewKdsCertSource(Options(cache));
  ASSERT_OK(src);
  VekQuery q = S5Query();
  ASSERT_OK((*src)->FetchVek(q));
  EXPECT_EQ(OfflineStorePath(Generation::kGenoa, q, true),
            "vcek/" + core::HexEncode(q.chip_id) + "/bl10_tee00_snp23_ucode84_vcek.der");
  EXPECT_TRUE(fs::exists(cache / OfflineStorePath(Generation::kGenoa, q, true)));
  auto offline = NewOfflineStoreCertSource(cache.string());
  auto der = offline->FetchVek(q);
  ASSERT_OK(der);
  EXPECT_TRUE(*der == vcek_);
  // Legacy flat name.
  fs::path flat = TempDir("offline-flat");
  fs::create_directories(flat / "vcek" / core::HexEncode(q.chip_id));
  fs::copy_file(S5("vcek.der"), flat / OfflineStorePath(Generation::kGenoa, q, false));
  EXPECT_OK(NewOfflineStoreCertSource(flat.string())->FetchVek(q));
  q.reported_tcb.microcode = 1;
  EXPECT_OK(NewOfflineStoreCertSource(flat.string())->FetchVek(q));
  EXPECT_THAT(NewOfflineStoreCertSource(cache.string())->FetchVek(q),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(KdsTest, BacksOffAfterRateLimiting) {
  auto src = NewKdsCertSource(Options(TempDir("kds-backoff")));
  ASSERT_OK(src);
  VekQuery q = S5Query();
  status_ = 429;
  auto r = (*src)->FetchVek(q);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(core::Message(r.status()), HasSubstr("HTTP 429 (rate limited)"));
  status_ = 200;
  // Retry-After: 30 s is honoured (longer than the initial 5 s back-off).
  clock_.Advance(std::chrono::seconds(29));
  r = (*src)->FetchVek(q);
  EXPECT_THAT(core::Message(r.status()), StartsWith("snp kds: backing off /vcek/v1/Genoa/"));
  EXPECT_EQ(requests_.load(), 1);
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_OK((*src)->FetchVek(q));
  EXPECT_EQ(requests_.load(), 2);
}

// A DER CRL with the given dates, signed by a throwaway key (the KDS source only reads dates).
std::string CrlWithDates(core::TimePoint this_update, core::TimePoint next_update) {
  crypto::PrivateKey key = crypto::PrivateKey::GenerateEcP256();
  crypto::X509CrlPtr crl(X509_CRL_new());
  auto time = [](core::TimePoint t) {
    return crypto::Asn1TimePtr(ASN1_TIME_set(nullptr, static_cast<time_t>(core::ToUnixSeconds(t))));
  };
  auto last = time(this_update);
  auto next = time(next_update);
  bool ok = crl != nullptr && X509_CRL_set_version(crl.get(), 1) == 1 &&
            X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1 &&
            X509_CRL_set1_nextUpdate(crl.get(), next.get()) == 1 &&
            X509_CRL_sign(crl.get(), key.get(), EVP_sha256()) > 0;
  unsigned char* der = nullptr;
  int len = ok ? i2d_X509_CRL(crl.get(), &der) : -1;
  if (len <= 0) std::abort();
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

TEST(KdsPathTest, CrlPaths) {
  EXPECT_EQ(KdsCrlPath(Generation::kMilan, SigningKey::kVcek), "/vcek/v1/Milan/crl");
  EXPECT_EQ(KdsCrlPath(Generation::kTurin, SigningKey::kVlek), "/vlek/v1/Turin/crl");
}

TEST_F(KdsTest, VlekChainsGetTheVlekCrl) {
  auto src = NewKdsCertSource(Options(TempDir("kds-vlek-crl")));
  ASSERT_OK(src);
  ServeCrl("/vcek/v1/Genoa/crl", "VCEK CRL");
  ServeCrl("/vlek/v1/Genoa/crl", "VLEK CRL");
  EXPECT_EQ(*(*src)->FetchCrl(Generation::kGenoa, SigningKey::kVlek), "VLEK CRL");
  EXPECT_EQ(last_target_, "/vlek/v1/Genoa/crl");
  EXPECT_EQ(*(*src)->FetchCrl(Generation::kGenoa, SigningKey::kVcek), "VCEK CRL");
  EXPECT_EQ(last_target_, "/vcek/v1/Genoa/crl");
  // Each kept separately.
  EXPECT_EQ(*(*src)->FetchCrl(Generation::kGenoa, SigningKey::kVlek), "VLEK CRL");
  EXPECT_EQ(requests_.load(), 2);
  EXPECT_THAT((*src)->FetchCrl(Generation::kUnknown, SigningKey::kVcek),
              StatusIs(absl::StatusCode::kNotFound));
  status_ = 404;
  EXPECT_THAT((*src)->FetchCrl(Generation::kTurin, SigningKey::kVcek),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(KdsTest, CrlIsAskedAgainOnceItsNextUpdatePassed) {
  auto src = NewKdsCertSource(Options(TempDir("kds-crl-next")));
  ASSERT_OK(src);
  std::string crl =
      CrlWithDates(clock_.Now() - std::chrono::hours(1), clock_.Now() + std::chrono::hours(2));
  ServeCrl("/vcek/v1/Genoa/crl", crl);
  EXPECT_TRUE(*(*src)->FetchCrl(Generation::kGenoa, SigningKey::kVcek) == crl);
  clock_.Advance(std::chrono::hours(1));
  EXPECT_OK((*src)->FetchCrl(Generation::kGenoa, SigningKey::kVcek));
  EXPECT_EQ(requests_.load(), 1);
  clock_.Advance(std::chrono::hours(1) + std::chrono::seconds(1));  // past nextUpdate, < 24 h
  EXPECT_OK((*src)->FetchCrl(Generation::kGenoa, SigningKey::kVcek));
  EXPECT_EQ(requests_.load(), 2);
}

// End to end: the verifier gets the ARK's CRLs from (fake) KDS; the VLEK path's CRL revokes the
// ASVK, so VLEK reports fail naming the revocation while VCEK reports still verify.
TEST_F(KdsTest, VerifierChecksRevocationFromKds) {
  auto h = evidence::snp::testing::TestHierarchy::Create();
  ServeCrl("/vcek/v1/Genoa/crl", h->IssueCrl({0x123}));
  ServeCrl("/vlek/v1/Genoa/crl", h->IssueCrl({0x10101}));
  auto src = NewKdsCertSource(Options(TempDir("kds-e2e-crl")));
  ASSERT_OK(src);
  evidence::snp::SnpVerifierOptions o = h->VerifierOptions();
  o.cert_source = *src;
  auto verifier = evidence::snp::SnpVerifier::Create(o);
  ASSERT_OK(verifier);
  evidence::snp::testing::ReportSpec spec;
  spec.report_data = "kds crl";
  auto vcek_ev = core::ParseJson(h->TsmEvidenceJson(spec));
  evidence::ExpectedBinding binding{spec.report_data, std::nullopt};
  auto r = (*verifier)->Verify(*vcek_ev, binding, clock_.Now());
  EXPECT_OK(r);
  spec.signing_key = SigningKey::kVlek;
  auto vlek_ev = core::ParseJson(h->TsmEvidenceJson(spec));
  r = (*verifier)->Verify(*vlek_ev, binding, clock_.Now());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()),
            "snp: ASVK `SEV-VLEK-Genoa` (serial 10101) is revoked by the ARK-Genoa CRL");
  EXPECT_EQ(requests_.load(), 2);  // one per path, then from memory
}

TEST_F(KdsTest, CrlIsFetchedAndKeptForADay) {
  auto src = NewKdsCertSource(Options(TempDir("kds-crl")));
  ASSERT_OK(src);
  auto crl = (*src)->FetchCrl(Generation::kMilan, SigningKey::kVcek);
  ASSERT_OK(crl);
  EXPECT_EQ(*crl, "CRL");
  EXPECT_EQ(last_target_, "/vcek/v1/Milan/crl");
  EXPECT_OK((*src)->FetchCrl(Generation::kMilan, SigningKey::kVcek));
  EXPECT_EQ(requests_.load(), 1);
  status_ = 503;
  clock_.Advance(std::chrono::hours(25));
  crl = (*src)->FetchCrl(Generation::kMilan, SigningKey::kVcek);  // stale copy while KDS fails
  ASSERT_OK(crl);
  EXPECT_EQ(requests_.load(), 2);
  // The back-off is the Milan CRL's only: the Genoa CRL is still asked for.
  EXPECT_THAT((*src)->FetchCrl(Generation::kGenoa, SigningKey::kVcek),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 503")));
  EXPECT_EQ(requests_.load(), 3);
  ASSERT_OK((*src)->FetchCrl(Generation::kMilan, SigningKey::kVcek));  // stale, backing off
  EXPECT_EQ(requests_.load(), 3);
}

TEST_F(KdsTest, NotFoundAndVlek) {
  auto src = NewKdsCertSource(Options(TempDir("kds-404")));
  ASSERT_OK(src);
  status_ = 404;
  VekQuery q = S5Query();
  EXPECT_THAT((*src)->FetchVek(q), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(requests_.load(), 1);
  // The chip is now known to be unknown: not asked about again, for any product or TCB.
  q.product = Generation::kUnknown;
  q.reported_tcb.microcode += 1;
  EXPECT_THAT((*src)->FetchVek(q), StatusIs(absl::StatusCode::kNotFound,
                                            HasSubstr("is unknown to KDS (not asked again until")));
  EXPECT_EQ(requests_.load(), 1);
  // v2 reports of another chip: Milan, then Genoa.
  q.chip_id[0] ^= 1;
  EXPECT_THAT((*src)->FetchVek(q), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(requests_.load(), 3);
  q.kind = SigningKey::kVlek;
  EXPECT_THAT((*src)->FetchVek(q), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(requests_.load(), 3);
  // Chained: directory first, then KDS.
  auto dir = NewDirectoryCertSource(S5("certs"));
  auto chained = NewChainedCertSource({*src, *dir});
  EXPECT_OK(chained->FetchVek(S5Query()));
}

// Issue 16 item 1: random CHIP_IDs cost at most the token bucket's burst of requests, and a chip
// is asked about once whatever TCB the reports claim.
TEST_F(KdsTest, ARandomChipFloodIsBoundedByTheBucket) {
  KdsOptions o = Options(TempDir("kds-flood"));
  o.limits.burst = 5;
  o.limits.fetches_per_minute = 1;
  auto src = NewKdsCertSource(o);
  ASSERT_OK(src);
  status_ = 404;
  int not_found = 0, limited = 0;
  for (int i = 0; i < 50; ++i) {
    VekQuery q = S5Query();
    q.chip_id = std::string(64, static_cast<char>(i));
    q.reported_tcb.microcode = static_cast<uint8_t>(i);
    auto r = (*src)->FetchVek(q);
    if (r.status().code() == absl::StatusCode::kNotFound) ++not_found;
    if (r.status().code() == absl::StatusCode::kUnavailable) {
      EXPECT_THAT(core::Message(r.status()), HasSubstr("snp kds: rate limited"));
      ++limited;
    }
  }
  EXPECT_EQ(requests_.load(), 5);
  EXPECT_EQ(not_found, 5);
  EXPECT_EQ(limited, 45);
}

// Issue 16 item 1: a 429 with Retry-After: 86400 backs off only the path it answered, for at
// most max_retry_after, timed from the answer.
TEST_F(KdsTest, ARetryAfterIsCappedAndBlocksOnlyItsChip) {
  KdsOptions o = Options(TempDir("kds-429"));
  o.limits.max_retry_after = std::chrono::seconds(300);
  auto src = NewKdsCertSource(o);
  ASSERT_OK(src);
  VekQuery limited = S5Query();
  {
    std::lock_guard<std::mutex> lock(mu_);
    limited_ = core::HexEncode(limited.chip_id);
  }
  EXPECT_THAT((*src)->FetchVek(limited),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 429 (rate limited)")));
  VekQuery other = S5Query();
  other.chip_id[0] ^= 1;
  EXPECT_OK((*src)->FetchVek(other));
  EXPECT_EQ(requests_.load(), 2);
  {
    std::lock_guard<std::mutex> lock(mu_);
    limited_.clear();
  }
  clock_.Advance(std::chrono::seconds(299));
  EXPECT_THAT((*src)->FetchVek(limited),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("snp kds: backing off")));
  EXPECT_EQ(requests_.load(), 2);
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_OK((*src)->FetchVek(limited));
  EXPECT_EQ(requests_.load(), 3);
}

// Issue 16 item 1: a hanging KDS costs a request at most the fetch wait, and a request for a
// chip in the cache does not wait at all.
TEST_F(KdsTest, AHangingKdsCostsARequestAtMostTheWait) {
  KdsOptions o = Options(TempDir("kds-hang"));
  o.limits.wait = std::chrono::milliseconds(300);
  o.timeout = std::chrono::milliseconds(3000);
  auto src = NewKdsCertSource(o);
  ASSERT_OK(src);
  ASSERT_OK((*src)->FetchVek(S5Query()));
  hang_ms_ = 2000;
  VekQuery q = S5Query();
  q.chip_id[0] ^= 1;
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT((*src)->FetchVek(q),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("still fetching after 300 ms")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  start = std::chrono::steady_clock::now();
  EXPECT_OK((*src)->FetchVek(S5Query()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  hang_ms_ = 0;
}

}  // namespace
}  // namespace ccburst::collateral::snp
