// The NVIDIA OCSP responder source against a stand-in responder on loopback that answers with
// OpenSSL's OCSP API for GPUs of the test device CA: good (cached until nextUpdate), revoked
// (refuses the GPU), unknown, a hanging responder (costs a request at most the gate's wait), a
// response signed by another key, an expired response, a nonce that is not echoed.
#include "collateral/nvidia/ocsp_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "core/testing/fake_clock.h"
#include "core/testing/status_matchers.h"
#include "crypto/openssl.h"
#include "evidence/nvidia/device_verifier.h"
#include "evidence/nvidia/testing/cert_maker.h"
#include "evidence/nvidia/testing/generator.h"
#include "net/http_server.h"

namespace ccburst::collateral::nvidia {
namespace {

namespace json = boost::json;
namespace nv = evidence::nvidia;
namespace nvt = evidence::nvidia::testing;
using ::ccburst::core::testing::FakeClock;
using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;

using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, crypto::OpensslDeleter<OCSP_REQUEST_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, crypto::OpensslDeleter<OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, crypto::OpensslDeleter<OCSP_BASICRESP_free>>;

enum class Mode { kGood, kRevoked, kUnknown, kWrongKey, kExpired, kNoNonce };

class OcspResponderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = ::testing::TempDir() + "/ocsp_source_test_ca_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    ASSERT_OK(ca_->Save(dir));
    auto key = crypto::PrivateKey::LoadPemFile(dir + "/root_key.pem");
    ASSERT_OK(key);
    root_key_ = std::make_unique<crypto::PrivateKey>(*std::move(key));
    auto root = crypto::Certificate::Parse(ca_->root_pem(), "root");
    ASSERT_OK(root);
    root_ = std::make_unique<crypto::Certificate>(*std::move(root));
    // An impostor: a self-signed root of the same name with another key.
    std::string impostor =
        nvt::MakeCert({"Test NVIDIA Device Identity CA", "Test NVIDIA Device Identity CA",
                       &other_key_, &other_key_, kFrom, kFrom + std::chrono::hours(24 * 365),
                       /*ca=*/true});
    auto other = crypto::Certificate::Parse(impostor, "impostor");
    ASSERT_OK(other);
    other_ = std::make_unique<crypto::Certificate>(*std::move(other));

    net::HttpServerOptions o;
    o.sockets = {"127.0.0.1:0"};
    o.threads = 2;
    auto server = net::HttpServer::Start(o, [this](const net::HttpRequest& req) {
      ++requests_;
      if (int ms = hang_ms_.load(); ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      }
      net::HttpResponse resp;
      resp.status = 200;
      resp.SetHeader("Content-Type", "application/ocsp-response");
      resp.body = Answer(req.body);
      return resp;
    });
    ASSERT_OK(server);
    server_ = std::move(*server);
  }

  // The stand-in responder: one SingleResponse for the request's CertID in the current mode,
  // signed by the device CA root (or the impostor), the nonce echoed.
  std::string Answer(const std::string& body) {
    const auto* p = reinterpret_cast<const unsigned char*>(body.data());
    OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(body.size())));
    if (req == nullptr || OCSP_request_onereq_count(req.get()) != 1) return "";
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req.get(), 0));
    Mode mode = mode_.load();
    core::TimePoint now = clock_.Now();
    core::TimePoint next =
        mode == Mode::kExpired ? now - std::chrono::minutes(1) : now + std::chrono::hours(24);
    crypto::Asn1TimePtr this_update(
        ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(now - std::chrono::hours(1))));
    crypto::Asn1TimePtr next_update(
        ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(next)));
    crypto::Asn1TimePtr revoked(ASN1_TIME_set(
        nullptr, std::chrono::system_clock::to_time_t(kFrom + std::chrono::hours(2))));
    int status = mode == Mode::kRevoked   ? V_OCSP_CERTSTATUS_REVOKED
                 : mode == Mode::kUnknown ? V_OCSP_CERTSTATUS_UNKNOWN
                                          : V_OCSP_CERTSTATUS_GOOD;
    OcspBasicPtr basic(OCSP_BASICRESP_new());
    if (OCSP_basic_add1_status(
            basic.get(), id, status,
            status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0,
            revoked.get(), this_update.get(), next_update.get()) == nullptr) {
      return "";
    }
    if (mode != Mode::kNoNonce) OCSP_copy_nonce(basic.get(), req.get());
    bool wrong = mode == Mode::kWrongKey;
    if (OCSP_basic_sign(basic.get(), wrong ? other_->get() : root_->get(),
                        wrong ? other_key_.get() : root_key_->get(), EVP_sha384(), nullptr,
                        0) != 1) {
      return "";
    }
    OcspResponsePtr resp(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
    unsigned char* out = nullptr;
    int n = i2d_OCSP_RESPONSE(resp.get(), &out);
    std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(n));
    OPENSSL_free(out);
    return der;
  }

  OcspResponderOptions Options() {
    OcspResponderOptions o;
    o.url = fmt::format("http://127.0.0.1:{}", server_->ports()[0]);
    o.clock = &clock_;
    return o;
  }

  nv::VerifiedChain Chain(const nvt::TestGpu& gpu) {
    nv::NvidiaVerifierOptions o;
    o.trust_anchors.push_back(ca_->root_pem());
    auto verifier = nv::NvidiaVerifier::Create(o);
    EXPECT_OK(verifier);
    auto chain = (*verifier)->VerifyChain(gpu.chain_pem, std::nullopt, clock_.Now());
    EXPECT_OK(chain);
    return *chain;
  }

  // Two GPUs' evidence bound to `binding_`.
  json::object Evidence() {
    json::array list;
    for (int i = 0; i < 2; ++i) {
      nvt::TestGpu gpu = ca_->MakeGpu();
      nvt::ReportSpec spec;
      spec.nonce = nv::ExpectedNonce(binding_);
      list.push_back(nvt::TestDeviceCa::EvidenceEntry(gpu, nvt::TestDeviceCa::MakeReport(gpu, spec),
                                                      fmt::format("gpu-{}", i)));
    }
    return json::object{{"device_evidence_list", list}};
  }

  std::unique_ptr<nv::NvidiaDeviceVerifier> DeviceVerifier(OcspResponderOptions options) {
    auto src = NewOcspResponderSource(options);
    EXPECT_OK(src);
    nv::NvidiaDeviceVerifierOptions o;
    o.verifier.trust_anchors.push_back(ca_->root_pem());
    o.ocsp_source = *src;
    auto v = nv::NvidiaDeviceVerifier::Create(o);
    EXPECT_OK(v);
    return *std::move(v);
  }

  const core::TimePoint kFrom = core::FromUnixSeconds(1'700'000'000);
  std::unique_ptr<nvt::TestDeviceCa> ca_ =
      nvt::TestDeviceCa::Create(kFrom, kFrom + std::chrono::hours(24 * 365));
  std::unique_ptr<crypto::PrivateKey> root_key_;
  std::unique_ptr<crypto::Certificate> root_;
  crypto::PrivateKey other_key_ = crypto::PrivateKey::GenerateEcP384();
  std::unique_ptr<crypto::Certificate> other_;
  std::string binding_ = std::string(48, '\x07');
  std::atomic<Mode> mode_{Mode::kGood};
  std::atomic<int> hang_ms_{0};
  std::atomic<int> requests_{0};
  FakeClock clock_{core::FromUnixSeconds(1'700'086'400)};
  std::unique_ptr<net::HttpServer> server_;
};

TEST_F(OcspResponderTest, AGoodStatusIsCachedUntilNextUpdate) {
  auto src = NewOcspResponderSource(Options());
  ASSERT_OK(src);
  nv::VerifiedChain chain = Chain(ca_->MakeGpu());
  ASSERT_EQ(chain.certs.size(), 3u);
  auto s = (*src)->CertStatus(chain, 1, clock_.Now());
  ASSERT_OK(s);
  EXPECT_EQ(s->status, nv::OcspCertStatus::kGood);
  EXPECT_EQ(s->next_update, clock_.Now() + std::chrono::hours(24));
  ASSERT_OK((*src)->CertStatus(chain, 1, clock_.Now() + std::chrono::hours(23)));
  EXPECT_EQ(requests_.load(), 1);
  // Past nextUpdate the responder is asked again.
  clock_.Advance(std::chrono::hours(25));
  ASSERT_OK((*src)->CertStatus(chain, 1, clock_.Now()));
  EXPECT_EQ(requests_.load(), 2);
  // The leaf and the anchor are never asked about.
  EXPECT_THAT((*src)->CertStatus(chain, 2, clock_.Now()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(OcspResponderTest, GoodGpusCarryAGoodOcspClaim) {
  auto verifier = DeviceVerifier(Options());
  auto claims = verifier->Verify(Evidence(), binding_, clock_.Now());
  ASSERT_OK(claims);
  ASSERT_EQ(claims->size(), 2u);
  for (const auto& c : *claims) {
    EXPECT_EQ(c.at("ocsp"), (json::object{{"status", "good"}}));
  }
  EXPECT_EQ(requests_.load(), 2);  // one BROM CA per GPU
}

TEST_F(OcspResponderTest, ARevokedCertificateRefusesTheGpu) {
  mode_ = Mode::kRevoked;
  auto verifier = DeviceVerifier(Options());
  EXPECT_THAT(verifier->Verify(Evidence(), binding_, clock_.Now()),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("nvidia: device 0 (gpu-0): ocsp: certificate `GH100 A01 GSP "
                                 "BROM` revoked at 2023-11-15T00:13:20Z (reason 1)")));
}

TEST_F(OcspResponderTest, AnUnknownStatusLeavesTheGpuWithoutAssurance) {
  mode_ = Mode::kUnknown;
  auto verifier = DeviceVerifier(Options());
  auto claims = verifier->Verify(Evidence(), binding_, clock_.Now());
  ASSERT_OK(claims);
  const json::object& ocsp = (*claims)[0].at("ocsp").as_object();
  EXPECT_EQ(ocsp.at("status"), "unknown");
  EXPECT_EQ(ocsp.at("error"), "certificate `GH100 A01 GSP BROM`: status unknown at the responder");
}

TEST_F(OcspResponderTest, AResponseSignedByAnotherKeyDoesNotVerify) {
  mode_ = Mode::kWrongKey;
  auto src = NewOcspResponderSource(Options());
  ASSERT_OK(src);
  nv::VerifiedChain chain = Chain(ca_->MakeGpu());
  EXPECT_THAT((*src)->CertStatus(chain, 1, clock_.Now()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("nvidia ocsp: GH100 A01 GSP BROM: ocsp: response signature does "
                                 "not verify with `Test NVIDIA Device Identity CA`")));
  // The failure is remembered briefly: asking again at once does not reach the responder.
  EXPECT_THAT((*src)->CertStatus(chain, 1, clock_.Now()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("backing off")));
  EXPECT_EQ(requests_.load(), 1);
  auto verifier = DeviceVerifier(Options());
  auto claims = verifier->Verify(Evidence(), binding_, clock_.Now());
  ASSERT_OK(claims);
  EXPECT_EQ((*claims)[0].at("ocsp").at("status"), "unknown");
}

TEST_F(OcspResponderTest, AnExpiredResponseDoesNotVerify) {
  mode_ = Mode::kExpired;
  auto src = NewOcspResponderSource(Options());
  ASSERT_OK(src);
  EXPECT_THAT((*src)->CertStatus(Chain(ca_->MakeGpu()), 1, clock_.Now()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("ocsp: response expired: nextUpdate 2023-11-15T22:12:20Z is "
                                 "before the verification time 2023-11-15T22:13:20Z")));
}

TEST_F(OcspResponderTest, ANonceThatIsNotEchoedDoesNotVerifyUnlessNoncesAreOff) {
  mode_ = Mode::kNoNonce;
  auto src = NewOcspResponderSource(Options());
  ASSERT_OK(src);
  nv::VerifiedChain chain = Chain(ca_->MakeGpu());
  EXPECT_THAT((*src)->CertStatus(chain, 1, clock_.Now()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("response carries no nonce")));
  OcspResponderOptions o = Options();
  o.nonce = false;
  auto no_nonce = NewOcspResponderSource(o);
  ASSERT_OK(no_nonce);
  auto s = (*no_nonce)->CertStatus(chain, 1, clock_.Now());
  ASSERT_OK(s);
  EXPECT_EQ(s->status, nv::OcspCertStatus::kGood);
}

TEST_F(OcspResponderTest, AHangingResponderCostsARequestAtMostOneWait) {
  OcspResponderOptions o = Options();
  o.limits.wait = std::chrono::milliseconds(300);
  o.timeout = std::chrono::milliseconds(3000);
  auto verifier = DeviceVerifier(o);
  hang_ms_ = 2000;
  auto start = std::chrono::steady_clock::now();
  auto claims = verifier->Verify(Evidence(), binding_, clock_.Now());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  ASSERT_OK(claims);
  ASSERT_EQ(claims->size(), 2u);
  EXPECT_EQ((*claims)[0].at("ocsp").at("status"), "unknown");
  EXPECT_THAT(std::string((*claims)[0].at("ocsp").at("error").as_string()),
              HasSubstr("still fetching after 300 ms"));
  EXPECT_THAT(std::string((*claims)[1].at("ocsp").at("error").as_string()),
              HasSubstr("not asked: the responder was unavailable earlier in this request"));
  EXPECT_EQ(requests_.load(), 1);
  hang_ms_ = 0;
}

// The real OpenSSL responder (`openssl ocsp -index`), signing with the test device CA's root, at
// the real time (it stamps thisUpdate with the system clock).
class OpensslResponderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/ocsp_openssl_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    ASSERT_OK(ca_->Save(dir_));
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Starts `openssl ocsp` on an ephemeral port with one index line per (status, certificate).
  void Start(const std::vector<std::pair<char, const crypto::Certificate*>>& entries) {
    std::ofstream index(dir_ + "/index.txt");
    for (const auto& [status, cert] : entries) {
      std::string serial = cert->serial_hex();
      std::transform(serial.begin(), serial.end(), serial.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (serial.size() % 2 != 0) serial = "0" + serial;
      index << status << "\t301231000000Z\t" << (status == 'R' ? "240101000000Z,keyCompromise" : "")
            << "\t" << serial << "\tunknown\t/CN=" << cert->subject_cn() << "\n";
    }
    index.close();
    std::string log = dir_ + "/responder.log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> args = {"openssl",  "ocsp",
                                     "-index",   dir_ + "/index.txt",
                                     "-port",    "0",
                                     "-rsigner", dir_ + "/root.pem",
                                     "-rkey",    dir_ + "/root_key.pem",
                                     "-CA",      dir_ + "/root.pem",
                                     "-nmin",    "60"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawnp(&pid_, "openssl", &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    // "ACCEPT [::]:<port> PID=<pid>"
    for (int i = 0; i < 100 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      std::smatch m;
      std::string t = text.str();
      if (std::regex_search(t, m, std::regex(R"(ACCEPT .*:(\d+) PID)"))) port_ = std::stoi(m[1]);
    }
    ASSERT_NE(port_, 0) << "openssl ocsp did not start";
  }

  std::shared_ptr<const nv::OcspSource> Source() {
    OcspResponderOptions o;
    o.url = fmt::format("http://127.0.0.1:{}", port_);
    auto src = NewOcspResponderSource(o);
    EXPECT_OK(src);
    return *src;
  }

  nv::VerifiedChain Chain(const nvt::TestGpu& gpu) {
    nv::NvidiaVerifierOptions o;
    o.trust_anchors.push_back(ca_->root_pem());
    auto verifier = nv::NvidiaVerifier::Create(o);
    EXPECT_OK(verifier);
    auto chain = (*verifier)->VerifyChain(gpu.chain_pem, std::nullopt, now_);
    EXPECT_OK(chain);
    return *chain;
  }

  const core::TimePoint now_ = std::chrono::system_clock::now();
  std::unique_ptr<nvt::TestDeviceCa> ca_ =
      nvt::TestDeviceCa::Create(now_ - std::chrono::hours(24), now_ + std::chrono::hours(24 * 365));
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(OpensslResponderTest, GoodRevokedAndUnknownFromItsIndex) {
  nv::VerifiedChain good = Chain(ca_->MakeGpu());
  nv::VerifiedChain revoked = Chain(ca_->MakeGpu());
  nv::VerifiedChain unknown = Chain(ca_->MakeGpu());
  Start({{'V', good.certs[1].get()}, {'R', revoked.certs[1].get()}});
  auto src = Source();
  auto s = src->CertStatus(good, 1, now_);
  ASSERT_OK(s);
  EXPECT_EQ(s->status, nv::OcspCertStatus::kGood);
  EXPECT_EQ(s->next_update - s->this_update, std::chrono::minutes(60));
  s = src->CertStatus(revoked, 1, now_);
  ASSERT_OK(s);
  EXPECT_EQ(s->status, nv::OcspCertStatus::kRevoked);
  ASSERT_TRUE(s->revoked_at.has_value());
  EXPECT_EQ(core::FormatRfc3339(*s->revoked_at), "2024-01-01T00:00:00Z");
  EXPECT_EQ(s->reason, 1);
  auto claim = nv::CheckChainOcsp(*src, revoked, now_, nullptr);
  EXPECT_THAT(claim, StatusIs(absl::StatusCode::kPermissionDenied,
                              "ocsp: certificate `GH100 A01 GSP BROM` revoked at "
                              "2024-01-01T00:00:00Z (reason 1)"));
  s = src->CertStatus(unknown, 1, now_);
  ASSERT_OK(s);
  EXPECT_EQ(s->status, nv::OcspCertStatus::kUnknown);
}

TEST_F(OcspResponderTest, ABadUrlIsRefusedAtStartup) {
  OcspResponderOptions o;
  o.url = "ftp://ocsp.example";
  EXPECT_THAT(NewOcspResponderSource(o), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ccburst::collateral::nvidia
