#include "audit/record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/testing/status_matchers.h"
#include "crypto/hash.h"

namespace ccburst::audit {
namespace {

using ::ccburst::core::testing::StatusIs;
using ::testing::HasSubstr;
namespace json = core::json;

constexpr int64_t kEvery = 4;

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = Signer::Create(crypto::PrivateKey::GenerateEcP256());
    ASSERT_OK(signer);
    signer_ = std::make_unique<Signer>(*std::move(signer));
  }

  // `n` events chained, as lines (checkpoints included), without the trailer.
  std::vector<std::string> Build(int n) {
    std::vector<std::string> lines;
    Head head;
    for (int i = 0; i < n; ++i) {
      Event e{i % 2 ? std::string(kRelease) : std::string(kAttestation),
              core::FromUnixSeconds(1'800'000'000 + i),
              {{"resource", fmt::format("default/key/{}", i)}, {"signal", 0.1 * i}}};
      auto out = Extend(head, e, kEvery, signer_.get());
      EXPECT_OK(out);
      for (std::string& l : *out) {
        auto h = HeadOf(l);
        EXPECT_OK(h);
        head = *h;
        lines.push_back(std::move(l));
      }
    }
    return lines;
  }

  std::string Export(const std::vector<std::string>& lines) {
    Head head;
    if (!lines.empty()) head = *HeadOf(lines.back());
    std::string out;
    for (const std::string& l : lines) out += l + "\n";
    return out + *ExportTrailer(head, core::FromUnixSeconds(1'900'000'000), *signer_) + "\n";
  }

  std::string Joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& l : lines) out += l + "\n";
    return out;
  }

  static std::string Findings(const VerifyReport& r) {
    std::string out;
    for (const Finding& f : r.findings) out += f.ToString() + "\n";
    return out;
  }

  std::unique_ptr<Signer> signer_;
};

TEST_F(AuditChainTest, BuildsAChainWithCheckpoints) {
  std::vector<std::string> lines = Build(10);
  // Checkpoints at seq 4, 8, 12: 10 events + 3 checkpoints.
  ASSERT_EQ(lines.size(), 13u);
  auto first = core::ParseJson(lines[0]);
  ASSERT_OK(first);
  EXPECT_EQ(first->at("version").as_int64(), kVersion);
  EXPECT_EQ(first->at("seq").as_int64(), 1);
  EXPECT_EQ(first->at("kind").as_string(), "attestation");
  EXPECT_EQ(first->at("prev").as_string(), kGenesis);
  EXPECT_EQ(first->at("time").as_string(), "2027-01-15T08:00:00Z");
  auto cp = core::ParseJson(lines[3]);
  ASSERT_OK(cp);
  EXPECT_EQ(cp->at("kind").as_string(), "checkpoint");
  EXPECT_EQ(cp->at("seq").as_int64(), 4);
  EXPECT_EQ(cp->at("count").as_int64(), 3);
  EXPECT_EQ(cp->at("head").as_string(), HeadOf(lines[2])->digest);
  EXPECT_EQ(cp->at("key_id").as_string(), signer_->key_id());

  VerifyReport r = Verify(Export(lines), signer_->PublicKey());
  EXPECT_TRUE(r.ok()) << Findings(r);
  EXPECT_EQ(r.records, 13u);
  EXPECT_EQ(r.checkpoints, 3u);
  EXPECT_EQ(r.head.seq, 13);
}

TEST_F(AuditChainTest, RejectsReservedFieldsAndUnknownKinds) {
  EXPECT_THAT(Extend(Head{}, Event{"attestation", {}, {{"prev", "x"}}}, kEvery, signer_.get()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field `prev`")));
  EXPECT_THAT(Extend(Head{}, Event{"gossip", {}, {}}, kEvery, signer_.get()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown record kind")));
}

TEST_F(AuditChainTest, EditIsReportedAtTheRecord) {
  std::vector<std::string> lines = Build(10);
  lines[2].replace(lines[2].find("default/key/2"), 13, "default/key/9");
  VerifyReport r = Verify(Export(lines), signer_->PublicKey());
  ASSERT_EQ(r.findings.size(), 1u) << Findings(r);
  EXPECT_EQ(r.findings[0].line, 3u);
  EXPECT_THAT(r.findings[0].ToString(), HasSubstr("record 3 (line 3, seq 3): digest does not "
                                                  "match the record's contents"));
}

TEST_F(AuditChainTest, DeleteIsReportedAtTheNextRecord) {
  std::vector<std::string> lines = Build(10);
  std::string exported = Export(lines);
  lines.erase(lines.begin() + 4);  // seq 5
  std::string tampered = Joined(lines) + exported.substr(exported.rfind("{\"version\":1,\"kind\""));
  VerifyReport r = Verify(tampered, signer_->PublicKey());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.findings[0].line, 5u);
  EXPECT_THAT(r.findings[0].reason, HasSubstr("seq 6 where 5 was expected"));
}

TEST_F(AuditChainTest, DuplicateIsReported) {
  std::vector<std::string> lines = Build(10);
  std::string exported = Export(lines);
  lines.insert(lines.begin() + 5, lines[4]);
  VerifyReport r =
      Verify(Joined(lines) + exported.substr(exported.rfind("{\"version\":1,\"kind\"")),
             signer_->PublicKey());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.findings[0].line, 6u);
  EXPECT_THAT(r.findings[0].reason, HasSubstr("seq 5 where 6 was expected (a duplicate"));
}

TEST_F(AuditChainTest, ReorderIsReported) {
  std::vector<std::string> lines = Build(10);
  std::string exported = Export(lines);
  std::swap(lines[4], lines[5]);
  VerifyReport r =
      Verify(Joined(lines) + exported.substr(exported.rfind("{\"version\":1,\"kind\"")),
             signer_->PublicKey());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.findings[0].line, 5u);
  EXPECT_THAT(r.findings[0].reason, HasSubstr("seq 6 where 5 was expected"));
}

TEST_F(AuditChainTest, TruncationIsReported) {
  std::vector<std::string> lines = Build(10);
  std::string exported = Export(lines);
  // Cut at a line boundary: the trailer is gone.
  VerifyReport r = Verify(Joined({lines.begin(), lines.begin() + 8}), signer_->PublicKey());
  ASSERT_EQ(r.findings.size(), 1u) << Findings(r);
  EXPECT_THAT(r.findings[0].ToString(),
              HasSubstr("record 9 (line 9): missing: the export ends after record 8"));
  // Cut inside a line.
  r = Verify(exported.substr(0, exported.size() / 2), signer_->PublicKey());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(Findings(r), HasSubstr("truncated in this line"));
  // Records dropped from the end, trailer kept.
  std::string trailer = exported.substr(exported.rfind("{\"version\":1,\"kind\""));
  r = Verify(Joined({lines.begin(), lines.begin() + 8}) + trailer, signer_->PublicKey());
  ASSERT_EQ(r.findings.size(), 1u) << Findings(r);
  EXPECT_EQ(r.findings[0].line, 9u);
  EXPECT_THAT(r.findings[0].reason, HasSubstr("the export trailer names 13 records"));
}

TEST_F(AuditChainTest, BadCheckpointSignatureIsReported) {
  std::vector<std::string> lines = Build(10);
  // Re-sign checkpoint 4 with another key but keep its key id, and re-seal its digest, as a forger
  // without the audit key would have to.
  auto cp = core::ParseJson(lines[3]);
  ASSERT_OK(cp);
  json::object o = cp->get_object();
  std::string sig(o["signature"].as_string());
  sig[5] = sig[5] == 'A' ? 'B' : 'A';
  o["signature"] = sig;
  o.erase("digest");
  o["digest"] = core::HexEncode(crypto::Sha256(CanonicalBytes(o)));
  lines[3] = json::serialize(o);
  VerifyReport r = Verify(Export(lines), signer_->PublicKey());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.findings[0].line, 4u);
  EXPECT_THAT(r.findings[0].reason, HasSubstr("checkpoint signature does not verify"));
}

TEST_F(AuditChainTest, WrongKeyIsReported) {
  std::vector<std::string> lines = Build(5);
  crypto::PrivateKey other = crypto::PrivateKey::GenerateEcP256();
  VerifyReport r = Verify(Export(lines), other.Public());
  ASSERT_EQ(r.findings.size(), 2u) << Findings(r);
  EXPECT_EQ(r.findings[0].line, 4u);
  EXPECT_THAT(r.findings[0].reason, HasSubstr("(wrong key)"));
  EXPECT_THAT(r.findings[1].reason, HasSubstr("export trailer: signed by key"));
}

TEST_F(AuditChainTest, RejectsNonP256Keys) {
  EXPECT_THAT(Signer::Create(crypto::PrivateKey::GenerateEcP384()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("P-256")));
}

}  // namespace
}  // namespace ccburst::audit
