#include "evidence/snp/verifier.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <atomic>
#include <map>
#include <thread>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"
#include "crypto/key.h"
#include "crypto/openssl.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/snp/testing/vectors.h"

namespace ccburst::evidence::snp {
namespace {

namespace json = boost::json;
using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using crypto::X509Ptr;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using namespace snp::testing;

// ---- Real hardware vectors (AMD's pinned roots) ----

TEST(SnpRealTest, VerifierInterfaceChecksTheBinding) {
  auto verifier = SnpVerifier::Create();
  ASSERT_OK(verifier);
  EXPECT_EQ((*verifier)->tee(), "snp");
  auto ev = core::ParseJson(S5TsmEvidence());
  ASSERT_OK(ev);
  core::TimePoint at = VerifyAt("s5-genoa-v3-tsm");
  std::string report_data = *core::HexDecode(
      std::string(CaseJson("s5-genoa-v3-tsm").at("expected").at("report_data").as_string()));

  ExpectedBinding good{report_data, std::string(32, '\0')};
  auto claims = (*verifier)->Verify(*ev, good, at);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("report_data").as_string(), core::HexEncode(report_data));

  ExpectedBinding bad{crypto::Sha384("other session"), std::nullopt};
  auto r = (*verifier)->Verify(*ev, bad, at);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(core::Message(r.status()), StartsWith("snp: REPORT_DATA 4d4944424e4832"));
  EXPECT_THAT(core::Message(r.status()), HasSubstr("does not match the session binding"));

  ExpectedBinding bad_init{report_data, crypto::Sha256("init-data")};
  r = (*verifier)->Verify(*ev, bad_init, at);
  EXPECT_THAT(core::Message(r.status()), HasSubstr("HOST_DATA"));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(SnpRealTest, ByteFlipsInTheSignedRegionAndSignatureFail) {
  auto verifier = SnpVerifier::Create();
  ASSERT_OK(verifier);
  auto ev = ParseEvidenceBytes(S5TsmEvidence());
  ASSERT_OK(ev);
  core::TimePoint at = VerifyAt("s5-genoa-v3-tsm");
  ASSERT_OK((*verifier)->VerifyEvidence(*ev, nullptr, at));
  const std::string original = ev->report.bytes;
  // Every byte of the signed region and of R and S (low 48 bytes and the zero padding).
  for (size_t i = 0; i < kSignatureSOffset + kSignatureFieldSize; ++i) {
    std::string flipped = original;
    flipped[i] ^= 0x01;
    auto parsed = ParseReport(flipped);
    if (!parsed.ok()) continue;  // e.g. VERSION or CPUID: refused while parsing
    Evidence e = *ev;
    e.report = *parsed;
    auto v = (*verifier)->VerifyEvidence(e, nullptr, at);
    ASSERT_THAT(v, Not(IsOk())) << "byte " << i;
  }
  std::string flipped = original;
  flipped[0x90] ^= 1;  // MEASUREMENT
  Evidence e = *ev;
  e.report = *ParseReport(flipped);
  EXPECT_EQ(core::Message((*verifier)->VerifyEvidence(e, nullptr, at).status()),
            "snp: report signature does not verify with the VCEK");
}

TEST(SnpRealTest, AmdAnchorsArePinnedAndSelfConsistent) {
  auto anchors = AmdProductAnchors();
  ASSERT_EQ(anchors.size(), 3u);
  for (const ProductAnchor& a : anchors) {
    auto ark = Certificate::Parse(a.ark, "ARK");
    ASSERT_OK(ark);
    EXPECT_EQ(ark->subject_cn(), "ARK-" + std::string(GenerationName(a.product)));
    EXPECT_EQ(core::HexEncode(ark->spki_sha256()), PinnedArkFingerprint(a.product));
    auto ask = Certificate::Parse(a.ask, "ASK");
    auto asvk = Certificate::Parse(a.asvk, "ASVK");
    ASSERT_OK(ask);
    ASSERT_OK(asvk);
    EXPECT_OK(ask->VerifySignedBy(*ark));
    EXPECT_OK(asvk->VerifySignedBy(*ark));
    EXPECT_THAT(ask->VerifySignedBy(*ask), Not(IsOk()));
  }
  // The bundles shipped in testdata are the same certificates.
  for (const char* p : {"milan", "genoa", "turin"}) {
    auto ders = SplitCertificates(Read(CaseDir("amd") + fmt::format("/{}_ask_ark_asvk.pem", p)));
    ASSERT_OK(ders);
    ASSERT_EQ(ders->size(), 3u);
    bool found = false;
    for (const ProductAnchor& a : anchors) {
      auto ark = Certificate::Parse(a.ark, "ARK");
      if (ark->der() == (*ders)[1]) found = true;
    }
    EXPECT_TRUE(found) << p;
  }
}

TEST(SnpRealTest, MissingEndorsementKeyStatusCodes) {
  auto ev = ParseEvidenceBytes(Read(CaseDir("s5-genoa-v3-tsm") + "/report.bin"));
  ASSERT_OK(ev);
  core::TimePoint at = VerifyAt("s5-genoa-v3-tsm");
  auto none = SnpVerifier::Create();
  EXPECT_THAT((*none)->VerifyEvidence(*ev, nullptr, at),
              StatusIs(absl::StatusCode::kInvalidArgument));
  SnpVerifierOptions o;
  o.cert_source = *NewStaticCertSource({});
  auto empty = SnpVerifier::Create(o);
  auto r = (*empty)->VerifyEvidence(*ev, nullptr, at);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()),
            "snp: cannot get the VCEK: snp: no VCEK among the supplied certificates");
}

// ---- Generated hierarchy ----

// The hierarchy `h` with its ARK key replaced by a fresh EC P-384 key that this test holds: the
// ARK, ASK and ASVK are re-signed with it (their own keys are unchanged, so `h`'s VCEK/VLEK and
// reports still chain), and CRLs can be issued with any dates (TestHierarchy::IssueCrl uses the
// hierarchy's validity). Local to this test: testing/generator.h is not ours to extend.
class ReRooted {
 public:
  explicit ReRooted(const testing::TestHierarchy& h)
      : h_(h), key_(crypto::PrivateKey::GenerateEcP384()) {
    ark_ = Resign(h.ark_der(), /*set_key=*/true);
    ask_ = Resign(h.ask_der(), false);
    asvk_ = Resign(h.asvk_der(), false);
  }

  SnpVerifierOptions VerifierOptions() const {
    SnpVerifierOptions o;
    o.anchors = {ProductAnchor{h_.options().product, ark_, ask_, asvk_}};
    o.allow_unpinned_arks = true;
    return o;
  }

  // A DER CRL of the ARK revoking `serials`; no nextUpdate when `next_update` is nullopt.
  std::string IssueCrl(const std::vector<long>& serials, core::TimePoint this_update,
                       std::optional<core::TimePoint> next_update) const {
    crypto::X509CrlPtr crl(X509_CRL_new());
    X509Ptr ark = Decode(ark_);
    auto time = [](core::TimePoint t) {
      return crypto::Asn1TimePtr(
          ASN1_TIME_set(nullptr, static_cast<time_t>(core::ToUnixSeconds(t))));
    };
    auto last = time(this_update);
    bool ok = crl != nullptr && X509_CRL_set_version(crl.get(), 1) == 1 &&
              X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ark.get())) == 1 &&
              X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1;
    if (next_update) ok = ok && X509_CRL_set1_nextUpdate(crl.get(), time(*next_update).get()) == 1;
    for (long serial : serials) {
      X509_REVOKED* r = X509_REVOKED_new();
      ASN1_INTEGER* n = ASN1_INTEGER_new();
      ok = ok && r != nullptr && n != nullptr && ASN1_INTEGER_set(n, serial) == 1 &&
           X509_REVOKED_set_serialNumber(r, n) == 1 &&
           X509_REVOKED_set_revocationDate(r, last.get()) == 1 &&
           X509_CRL_add0_revoked(crl.get(), r) == 1;
      ASN1_INTEGER_free(n);
    }
    ok = ok && X509_CRL_sign(crl.get(), key_.get(), EVP_sha384()) > 0;
    unsigned char* der = nullptr;
    int len = ok ? i2d_X509_CRL(crl.get(), &der) : -1;
    if (len <= 0) std::abort();
    std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    return out;
  }

 private:
  static X509Ptr Decode(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (x == nullptr) std::abort();
    return x;
  }

  std::string Resign(const std::string& der, bool set_key) const {
    X509Ptr x = Decode(der);
    if ((set_key && X509_set_pubkey(x.get(), key_.get()) != 1) ||
        X509_sign(x.get(), key_.get(), EVP_sha384()) <= 0) {
      std::abort();
    }
    unsigned char* out = nullptr;
    int len = i2d_X509(x.get(), &out);
    if (len <= 0) std::abort();
    std::string s(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
    OPENSSL_free(out);
    return s;
  }

  const testing::TestHierarchy& h_;
  crypto::PrivateKey key_;
  std::string ark_, ask_, asvk_;
};

// Serves fixed CRLs per (product, kind) and counts the requests.
class FakeCrlSource final : public CertSource {
 public:
  absl::StatusOr<std::string> FetchVek(const VekQuery&) const override {
    return absl::NotFoundError("fake: no VEKs");
  }
  absl::StatusOr<std::string> FetchCrl(Generation product, SigningKey kind) const override {
    ++requests;
    auto it = crls.find({product, kind});
    if (it == crls.end()) return absl::UnavailableError("fake: down");
    return it->second;
  }
  std::map<std::pair<Generation, SigningKey>, std::string> crls;
  mutable std::atomic<int> requests{0};
};

class SnpGeneratedTest : public ::testing::Test {
 protected:
  // Created on first use: RSA key generation dominates the run time of these tests.
  static const testing::TestHierarchy& Of(Generation product) {
    static std::map<Generation, std::unique_ptr<testing::TestHierarchy>> hierarchies;
    auto& h = hierarchies[product];
    if (h == nullptr) {
      testing::HierarchyOptions o;
      o.product = product;
      h = testing::TestHierarchy::Create(o);
    }
    return *h;
  }

  static absl::StatusOr<json::object> Verify(const testing::TestHierarchy& h,
                                             const std::string& evidence,
                                             const ExpectedBinding& binding,
                                             SnpVerifierOptions options) {
    auto verifier = SnpVerifier::Create(std::move(options));
    if (!verifier.ok()) return verifier.status();
    auto ev = core::ParseJson(evidence);
    if (!ev.ok()) return ev.status();
    return (*verifier)->Verify(*ev, binding, kNow);
  }
  static absl::StatusOr<json::object> Verify(const testing::TestHierarchy& h,
                                             const testing::ReportSpec& spec) {
    return Verify(h, h.TsmEvidenceJson(spec), Binding(spec), h.VerifierOptions());
  }
  static ExpectedBinding Binding(const testing::ReportSpec& spec) {
    return ExpectedBinding{spec.report_data, std::nullopt};
  }

  static inline const core::TimePoint kNow = core::FromUnixSeconds(1767225600);  // 2026-01-01
};

TEST_F(SnpGeneratedTest, EveryGenerationAndVersionVerifies) {
  for (Generation g : {Generation::kGenoa, Generation::kTurin, Generation::kMilan}) {
    const testing::TestHierarchy* h = &Of(g);
    for (uint32_t version : {2u, 3u, 5u}) {
      testing::ReportSpec spec;
      spec.version = version;
      spec.report_data = crypto::Sha384("session");
      spec.host_data = crypto::Sha256("init");
      auto claims = Verify(*h, h->TsmEvidenceJson(spec),
                           ExpectedBinding{spec.report_data, spec.host_data}, h->VerifierOptions());
      ASSERT_OK(claims) << GenerationName(h->options().product) << " v" << version;
      EXPECT_EQ(claims->at("report_data").as_string(),
                core::HexEncode(spec.report_data + std::string(16, '\0')));
      EXPECT_EQ(claims->at("init_data").as_string(), core::HexEncode(spec.host_data));
      EXPECT_EQ(claims->at("reported_tcb_microcode").to_number<int>(), h->options().tcb.microcode);
      EXPECT_EQ(claims->at("reported_tcb_snp").to_number<int>(), h->options().tcb.snp);
      EXPECT_EQ(claims->at("policy_smt_allowed").as_bool(), true);
      EXPECT_EQ(claims->at("platform_tsme_enabled").as_bool(), true);
    }
  }
}

TEST_F(SnpGeneratedTest, TurinTcbUsesTheTurinLayoutAndFmc) {
  testing::ReportSpec spec;
  spec.report_data = "x";
  Tcb wrong_fmc = Of(Generation::kTurin).options().tcb;
  wrong_fmc.fmc = 7;
  spec.reported_tcb = wrong_fmc;
  auto r = Verify(Of(Generation::kTurin), spec);
  EXPECT_EQ(core::Message(r.status()), "snp: REPORTED_TCB FMC 7 does not match the VCEK fmcSPL 1");
}

TEST_F(SnpGeneratedTest, VlekVerifiesThroughTheAsvk) {
  testing::ReportSpec spec;
  spec.signing_key = SigningKey::kVlek;
  spec.report_data = "vlek";
  auto claims = Verify(Of(Generation::kGenoa), spec);
  ASSERT_OK(claims);
  // Without certificates in the evidence, the anchor's ASVK issues the VLEK from the source.
  auto src = NewStaticCertSource({Of(Generation::kGenoa).vlek_der()});
  ASSERT_OK(src);
  SnpVerifierOptions o = Of(Generation::kGenoa).VerifierOptions();
  o.cert_source = *src;
  EXPECT_OK(Verify(Of(Generation::kGenoa), Of(Generation::kGenoa).TsmEvidenceJson(spec, false),
                   Binding(spec), o));
}

TEST_F(SnpGeneratedTest, Vmpl1RefusedByDefault) {
  testing::ReportSpec spec;
  spec.vmpl = 1;
  auto r = Verify(Of(Generation::kGenoa), spec);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()), "snp: VMPL 1 is not the required 0");
  SnpVerifierOptions o = Of(Generation::kGenoa).VerifierOptions();
  o.required_vmpl = std::nullopt;
  EXPECT_OK(Verify(Of(Generation::kGenoa), Of(Generation::kGenoa).TsmEvidenceJson(spec),
                   Binding(spec), o));
}

TEST_F(SnpGeneratedTest, MismatchingTcbAndChipIdFail) {
  struct Case {
    Tcb tcb;
    std::string error;
  };
  Tcb base = Of(Generation::kGenoa).options().tcb;
  Tcb ucode = base, snp = base, tee = base, bl = base;
  ucode.microcode = 85;
  snp.snp = 22;
  tee.tee = 1;
  bl.bootloader = 9;
  for (const Case& c :
       {Case{ucode, "snp: REPORTED_TCB microcode 85 does not match the VCEK ucodeSPL 84"},
        Case{snp, "snp: REPORTED_TCB SNP 22 does not match the VCEK snpSPL 23"},
        Case{tee, "snp: REPORTED_TCB TEE 1 does not match the VCEK teeSPL 0"},
        Case{bl, "snp: REPORTED_TCB boot loader 9 does not match the VCEK blSPL 10"}}) {
    testing::ReportSpec spec;
    spec.reported_tcb = c.tcb;
    auto r = Verify(Of(Generation::kGenoa), spec);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
    EXPECT_EQ(core::Message(r.status()), c.error);
  }
  testing::ReportSpec spec;
  spec.chip_id = std::string(64, '\x01');
  auto r = Verify(Of(Generation::kGenoa), spec);
  EXPECT_THAT(core::Message(r.status()), StartsWith("snp: CHIP_ID 0101"));
  EXPECT_THAT(core::Message(r.status()), HasSubstr("does not match the VCEK hwID a5a4a7a6"));
}

TEST_F(SnpGeneratedTest, WrongArkIsRefused) {
  testing::ReportSpec spec;
  spec.report_data = "x";
  // AMD's roots: the test ARK in the evidence has AMD's name but not its key.
  auto r = Verify(Of(Generation::kGenoa), Of(Generation::kGenoa).TsmEvidenceJson(spec),
                  Binding(spec), SnpVerifierOptions{});
  EXPECT_EQ(core::Message(r.status()),
            "snp: ARK `ARK-Genoa` in the evidence is not the trusted Genoa ARK");
  // Without the ARK in the evidence the VCEK does not chain to AMD's ASK.
  auto src = NewStaticCertSource({Of(Generation::kGenoa).vcek_der()});
  SnpVerifierOptions amd;
  amd.cert_source = *src;
  r = Verify(Of(Generation::kGenoa), Of(Generation::kGenoa).TsmEvidenceJson(spec, false),
             Binding(spec), amd);
  EXPECT_THAT(core::Message(r.status()),
              StartsWith("snp: VCEK signature does not verify with ASK `SEV-Genoa`"));
  // Another test hierarchy's ARK.
  r = Verify(Of(Generation::kGenoa), Of(Generation::kGenoa).TsmEvidenceJson(spec), Binding(spec),
             testing::TestHierarchy::Create()->VerifierOptions());
  EXPECT_EQ(core::Message(r.status()),
            "snp: ARK `ARK-Genoa` in the evidence is not the trusted Genoa ARK");
  // An unpinned ARK is only accepted when asked for.
  SnpVerifierOptions pinned = Of(Generation::kGenoa).VerifierOptions();
  pinned.allow_unpinned_arks = false;
  auto v = SnpVerifier::Create(pinned);
  EXPECT_THAT(v, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(core::Message(v.status()), HasSubstr("is not AMD's pinned"));
}

// Issue 16 "checks that no test would miss": reports that differ from an accepted one only in the
// checked field, re-signed with the hierarchy's VCEK key.
TEST_F(SnpGeneratedTest, ReportOfAnotherProductThanItsVcekIsRefused) {
  const testing::TestHierarchy& h = Of(Generation::kGenoa);
  auto verifier = SnpVerifier::Create(h.VerifierOptions());
  ASSERT_OK(verifier);
  core::TimePoint now = core::FromUnixSeconds(1767225600);
  testing::ReportSpec spec;
  std::string raw = h.SignReport(spec);
  Evidence ev;
  ev.certs = {{CertKind::kVcek, h.vcek_der()}};
  ev.report = *ParseReport(raw);
  ASSERT_EQ(ev.report.generation, Generation::kGenoa);
  EXPECT_OK((*verifier)->VerifyEvidence(ev, nullptr, now));
  raw[0x189] = 0x01;  // CPUID_MOD_ID: a Milan (family 19h, model 01h) report, Genoa VCEK
  ev.report = *ParseReport(h.Resign(raw));
  ASSERT_EQ(ev.report.generation, Generation::kMilan);
  auto r = (*verifier)->VerifyEvidence(ev, nullptr, now);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()), "snp: report CPUID says Milan but the VCEK is for Genoa");
}

TEST_F(SnpGeneratedTest, VcekWithoutHwidIsRefused) {
  const testing::TestHierarchy& h = Of(Generation::kGenoa);
  auto verifier = SnpVerifier::Create(h.VerifierOptions());
  ASSERT_OK(verifier);
  core::TimePoint now = core::FromUnixSeconds(1767225600);
  core::TimePoint nb = core::FromUnixSeconds(1577836800), na = core::FromUnixSeconds(4102444800);
  testing::ReportSpec spec;
  Evidence ev;
  ev.report = *ParseReport(h.SignReport(spec));
  ev.certs = {{CertKind::kVcek, h.IssueVcek(h.options().tcb, h.options().chip_id, nb, na)}};
  EXPECT_OK((*verifier)->VerifyEvidence(ev, nullptr, now));
  // The same key, extensions and validity, without the hwID extension.
  ev.certs = {{CertKind::kVcek, h.IssueVcek(h.options().tcb, "", nb, na)}};
  auto r = (*verifier)->VerifyEvidence(ev, nullptr, now);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()), "snp: VCEK has no hwID extension");
}

TEST_F(SnpGeneratedTest, CachedChainsStillCheckValidity) {
  auto verifier = SnpVerifier::Create(Of(Generation::kGenoa).VerifierOptions());
  ASSERT_OK(verifier);
  core::TimePoint nb = core::FromUnixSeconds(1767225600);
  core::TimePoint na = core::FromUnixSeconds(1767225600 + 3600);
  std::string vcek = Of(Generation::kGenoa)
                         .IssueVcek(Of(Generation::kGenoa).options().tcb,
                                    Of(Generation::kGenoa).options().chip_id, nb, na);
  testing::ReportSpec spec;
  Evidence ev;
  ev.report = *ParseReport(Of(Generation::kGenoa).SignReport(spec));
  ev.certs = {{CertKind::kVcek, vcek}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_OK((*verifier)->VerifyEvidence(ev, nullptr, nb + std::chrono::seconds(10)));
  }
  auto r = (*verifier)->VerifyEvidence(ev, nullptr, na + std::chrono::seconds(1));
  EXPECT_THAT(core::Message(r.status()), StartsWith("snp: VCEK certificate `SEV-VCEK` expired at"));
  r = (*verifier)->VerifyEvidence(ev, nullptr, nb - std::chrono::seconds(1));
  EXPECT_THAT(core::Message(r.status()), HasSubstr("is not valid before"));
}

TEST_F(SnpGeneratedTest, RevokedAskIsRefused) {
  const testing::TestHierarchy& h = Of(Generation::kGenoa);
  testing::ReportSpec spec;
  spec.report_data = "crl";
  SnpVerifierOptions o = h.VerifierOptions();
  o.crls = {h.IssueCrl({0x123})};
  EXPECT_OK(Verify(h, h.TsmEvidenceJson(spec), Binding(spec), o));
  o.crls = {h.IssueCrl({0x123, 0x10001})};
  auto r = Verify(h, h.TsmEvidenceJson(spec), Binding(spec), o);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()),
            "snp: ASK `SEV-Genoa` (serial 10001) is revoked by the ARK-Genoa CRL");
  // The VLEK chain goes through the ASVK, which this CRL does not revoke.
  testing::ReportSpec vlek = spec;
  vlek.signing_key = SigningKey::kVlek;
  EXPECT_OK(Verify(h, h.TsmEvidenceJson(vlek), Binding(vlek), o));
  // A CRL in the evidence's certificate table counts too.
  std::string report = h.SignReport(spec);
  std::string ev = TsmEvidence(
      report, {{CertKind::kVcek, h.vcek_der()}, {CertKind::kCrl, h.IssueCrl({0x10001})}});
  r = Verify(h, ev, Binding(spec), h.VerifierOptions());
  EXPECT_THAT(core::Message(r.status()), HasSubstr("is revoked"));
  // A CRL not signed by the ARK fails; one for another ARK name is ignored.
  std::string forged = h.IssueCrl({});
  forged[forged.size() - 5] ^= 1;
  o.crls = {forged};
  r = Verify(h, h.TsmEvidenceJson(spec), Binding(spec), o);
  EXPECT_EQ(core::Message(r.status()),
            "snp: CRL issued by `ARK-Genoa` does not verify with the key of `ARK-Genoa`");
  o.crls = {Of(Generation::kTurin).IssueCrl({0x10001})};
  EXPECT_OK(Verify(h, h.TsmEvidenceJson(spec), Binding(spec), o));
}

TEST_F(SnpGeneratedTest, ReferenceAttesterJsonFormVerifies) {
  testing::ReportSpec spec;
  spec.version = 5;
  spec.report_data = crypto::Sha512("x");
  auto report = ParseReport(Of(Generation::kTurin).SignReport(spec));
  ASSERT_OK(report);
  json::array data;
  for (char c : Of(Generation::kTurin).vcek_der()) data.emplace_back(static_cast<uint8_t>(c));
  json::object ev{{"attestation_report", ReportToTrusteeJson(*report)},
                  {"cert_chain", json::array{json::object{{"cert_type", "VCEK"}, {"data", data}}}}};
  auto verifier = SnpVerifier::Create(Of(Generation::kTurin).VerifierOptions());
  ASSERT_OK(verifier);
  auto claims = (*verifier)->Verify(ev, Binding(spec), kNow);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->at("report_data").as_string(), core::HexEncode(spec.report_data));
}

TEST_F(SnpGeneratedTest, UnsignedOrWrongKeyReportsFail) {
  testing::ReportSpec spec;
  std::string report = Of(Generation::kGenoa).SignReport(spec);
  report[0x48] = static_cast<char>(7 << 2);  // SIGNING_KEY none
  Evidence ev;
  ev.report = *ParseReport(Of(Generation::kGenoa).Resign(report));
  ev.certs = {{CertKind::kVcek, Of(Generation::kGenoa).vcek_der()}};
  auto verifier = SnpVerifier::Create(Of(Generation::kGenoa).VerifierOptions());
  EXPECT_EQ(core::Message((*verifier)->VerifyEvidence(ev, nullptr, kNow).status()),
            "snp: report SIGNING_KEY is none, expected VCEK or VLEK");
  // A VLEK-signed report with only a VCEK offered.
  spec.signing_key = SigningKey::kVlek;
  ev.report = *ParseReport(Of(Generation::kGenoa).SignReport(spec));
  ev.certs = {{CertKind::kVlek, Of(Generation::kGenoa).vcek_der()}};
  EXPECT_EQ(core::Message((*verifier)->VerifyEvidence(ev, nullptr, kNow).status()),
            "snp: report is signed by the VLEK but the endorsement certificate is `SEV-VCEK`");
}

TEST_F(SnpGeneratedTest, CrlValidityWindowIsChecked) {
  const testing::TestHierarchy& h = Of(Generation::kGenoa);
  ReRooted root(h);
  testing::ReportSpec spec;
  spec.report_data = "crl dates";
  std::string ev = TsmEvidence(h.SignReport(spec), {{CertKind::kVcek, h.vcek_der()}});
  SnpVerifierOptions o = root.VerifierOptions();
  EXPECT_OK(Verify(h, ev, Binding(spec), o));

  // kNow is 2026-01-01; a CRL valid around it (or without nextUpdate) is fine.
  o.crls = {root.IssueCrl({0x123}, At("2025-12-01T00:00:00Z"), At("2026-01-15T00:00:00Z"))};
  auto r = Verify(h, ev, Binding(spec), o);
  EXPECT_OK(r);
  o.crls = {root.IssueCrl({0x123}, At("2025-12-01T00:00:00Z"), std::nullopt)};
  EXPECT_OK(Verify(h, ev, Binding(spec), o));

  // Expired: refused, naming the CRL and its nextUpdate, unless expired CRLs are accepted.
  o.crls = {root.IssueCrl({0x123}, At("2025-10-01T00:00:00Z"), At("2025-11-12T00:00:00Z"))};
  r = Verify(h, ev, Binding(spec), o);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()),
            "snp: ARK-Genoa CRL expired at its nextUpdate 2025-11-12T00:00:00Z (verification time "
            "2026-01-01T00:00:00Z)");
  o.accept_expired_crls = true;
  EXPECT_OK(Verify(h, ev, Binding(spec), o));
  // An expired CRL's revocations still apply.
  o.crls = {root.IssueCrl({0x10001}, At("2025-10-01T00:00:00Z"), At("2025-11-12T00:00:00Z"))};
  EXPECT_THAT(core::Message(Verify(h, ev, Binding(spec), o).status()),
              HasSubstr("(serial 10001) is revoked by the ARK-Genoa CRL"));
  o.accept_expired_crls = false;

  // Not yet valid at the verification time.
  o.crls = {root.IssueCrl({}, At("2026-02-01T00:00:00Z"), At("2026-03-01T00:00:00Z"))};
  r = Verify(h, ev, Binding(spec), o);
  EXPECT_EQ(core::Message(r.status()),
            "snp: ARK-Genoa CRL is not valid before its thisUpdate 2026-02-01T00:00:00Z "
            "(verification time 2026-01-01T00:00:00Z)");

  // A CRL carried in the evidence gets the same checks.
  std::string with_crl = TsmEvidence(h.SignReport(spec),
                                     {{CertKind::kVcek, h.vcek_der()},
                                      {CertKind::kCrl, root.IssueCrl({}, At("2025-10-01T00:00:00Z"),
                                                                     At("2025-11-12T00:00:00Z"))}});
  EXPECT_THAT(core::Message(Verify(h, with_crl, Binding(spec), root.VerifierOptions()).status()),
              StartsWith("snp: ARK-Genoa CRL expired at its nextUpdate"));

  // The dates are checked per report even when the CRL is cached: one verifier, two times.
  o.crls = {root.IssueCrl({}, At("2025-12-01T00:00:00Z"), At("2026-01-15T00:00:00Z"))};
  auto verifier = SnpVerifier::Create(o);
  ASSERT_OK(verifier);
  Evidence parsed = *ParseEvidenceBytes(ev);
  EXPECT_OK((*verifier)->VerifyEvidence(parsed, nullptr, kNow));
  auto late = (*verifier)->VerifyEvidence(parsed, nullptr, At("2026-01-16T00:00:00Z"));
  EXPECT_THAT(core::Message(late.status()),
              StartsWith("snp: ARK-Genoa CRL expired at its nextUpdate 2026-01-15T00:00:00Z"));
}

TEST_F(SnpGeneratedTest, CertSourceCrlsPerChainKind) {
  const testing::TestHierarchy& h = Of(Generation::kGenoa);
  ReRooted root(h);
  auto source = std::make_shared<FakeCrlSource>();
  core::TimePoint from = At("2025-12-01T00:00:00Z");
  core::TimePoint to = At("2026-01-15T00:00:00Z");
  // The VCEK path's CRL revokes nothing we use; the VLEK path's revokes the ASVK (0x10101).
  source->crls[{Generation::kGenoa, SigningKey::kVcek}] = root.IssueCrl({0x123}, from, to);
  source->crls[{Generation::kGenoa, SigningKey::kVlek}] = root.IssueCrl({0x10101}, from, to);
  SnpVerifierOptions o = root.VerifierOptions();
  o.cert_source = source;
  testing::ReportSpec spec;
  spec.report_data = "kinds";
  std::string vcek_ev = TsmEvidence(h.SignReport(spec), {{CertKind::kVcek, h.vcek_der()}});
  auto r = Verify(h, vcek_ev, Binding(spec), o);
  EXPECT_OK(r);
  testing::ReportSpec vlek = spec;
  vlek.signing_key = SigningKey::kVlek;
  std::string vlek_ev = TsmEvidence(h.SignReport(vlek), {{CertKind::kVlek, h.vlek_der()}});
  r = Verify(h, vlek_ev, Binding(vlek), o);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(core::Message(r.status()),
            "snp: ASVK `SEV-VLEK-Genoa` (serial 10101) is revoked by the ARK-Genoa CRL");
  // An ARK-named CRL with a bad signature from the source fails; a source that is down does not
  // block verification.
  std::string forged = root.IssueCrl({}, from, to);
  forged[forged.size() - 3] ^= 1;
  source->crls[{Generation::kGenoa, SigningKey::kVcek}] = forged;
  EXPECT_EQ(core::Message(Verify(h, vcek_ev, Binding(spec), o).status()),
            "snp: CRL issued by `ARK-Genoa` does not verify with the key of `ARK-Genoa`");
  source->crls.clear();
  EXPECT_OK(Verify(h, vcek_ev, Binding(spec), o));
}

TEST_F(SnpGeneratedTest, ChainCacheIsBoundedLeastRecentlyUsed) {
  const testing::TestHierarchy& h = Of(Generation::kGenoa);
  SnpVerifierOptions o = h.VerifierOptions();
  o.chain_cache_entries = 2;
  auto verifier = SnpVerifier::Create(o);
  ASSERT_OK(verifier);
  // Three distinct VCEKs for the same key (different validity) -> three chains.
  std::vector<Evidence> evs;
  for (int i = 0; i < 3; ++i) {
    std::string vcek =
        h.IssueVcek(h.options().tcb, h.options().chip_id, core::FromUnixSeconds(1577836800 + i),
                    core::FromUnixSeconds(4102444800));
    Evidence ev;
    ev.report = *ParseReport(h.SignReport(testing::ReportSpec{}));
    ev.certs = {{CertKind::kVcek, vcek}};
    evs.push_back(std::move(ev));
  }
  for (const Evidence& ev : evs) {
    auto v = (*verifier)->VerifyEvidence(ev, nullptr, kNow);
    ASSERT_OK(v);
  }
  EXPECT_EQ((*verifier)->CachedChainCount(), 2u);
  // Still correct after evictions, from several threads at once.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 6; ++i) {
        if (!(*verifier)->VerifyEvidence(evs[(t + i) % 3], nullptr, kNow).ok()) ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*verifier)->CachedChainCount(), 2u);
  // A tampered report is refused even though its chain is cached.
  Evidence bad = evs[0];
  std::string tampered = bad.report.bytes;
  tampered[0x90] ^= 1;  // MEASUREMENT
  auto reparsed = ParseReport(tampered);
  ASSERT_OK(reparsed);
  bad.report = *reparsed;
  EXPECT_EQ(core::Message((*verifier)->VerifyEvidence(bad, nullptr, kNow).status()),
            "snp: report signature does not verify with the VCEK");
  // With the cache disabled nothing is kept.
  o.chain_cache_entries = 0;
  auto uncached = SnpVerifier::Create(o);
  EXPECT_OK((*uncached)->VerifyEvidence(evs[0], nullptr, kNow));
  EXPECT_EQ((*uncached)->CachedChainCount(), 0u);
}

}  // namespace
}  // namespace ccburst::evidence::snp
