// Test helpers over the real SEV-SNP vectors in ../shared/testdata/snp (case directories,
// case.json facts, TSM-form evidence) and the claim checks shared by the verifier's and the
// operator command's tests. Test-only: linked by tests, never by apps/.
#pragma once

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "evidence/snp/evidence.h"

namespace ccburst::evidence::snp::testing {

namespace json = boost::json;

inline std::string CaseDir(std::string_view name) {
  return fmt::format("{}/testdata/snp/{}", CCB_SHARED_DIR, name);
}

inline std::string Read(const std::string& path) {
  auto data = core::ReadFile(path);
  EXPECT_OK(data);
  return data.ok() ? *data : std::string();
}

inline json::object CaseJson(std::string_view name) {
  auto v = core::ParseJson(Read(CaseDir(name) + "/case.json"));
  EXPECT_OK(v);
  return v->as_object();
}

inline core::TimePoint VerifyAt(std::string_view name) {
  auto t = core::ParseRfc3339(std::string(CaseJson(name).at("verify_at").as_string()));
  EXPECT_OK(t);
  return *t;
}

inline core::TimePoint At(std::string_view rfc3339) { return *core::ParseRfc3339(rfc3339); }

inline std::string S5TsmEvidence() {
  return fmt::format(R"({{"report":"{}","auxblob":"{}"}})",
                     core::Base64Encode(Read(CaseDir("s5-genoa-v3-tsm") + "/report.bin")),
                     core::Base64Encode(Read(CaseDir("s5-genoa-v3-tsm") + "/auxblob.bin")));
}

inline std::string TsmEvidence(const std::string& report, const std::vector<EvidenceCert>& certs) {
  return fmt::format(R"({{"report":"{}","auxblob":"{}"}})", core::Base64Encode(report),
                     core::Base64Encode(EncodeCertTable(certs)));
}

inline std::string Error(const json::object& result) {
  const json::value& e = result.at("error");
  return e.is_string() ? std::string(e.as_string()) : std::string();
}

inline void ExpectClaimsMatchCase(const json::object& claims, const json::object& expected) {
  std::vector<std::string> keys;
  for (const auto& kv : claims) keys.emplace_back(kv.key());
  EXPECT_THAT(keys, ::testing::UnorderedElementsAre(
                        "policy_abi_major", "policy_abi_minor", "policy_smt_allowed",
                        "policy_migrate_ma", "policy_debug_allowed", "policy_single_socket",
                        "reported_tcb_bootloader", "reported_tcb_tee", "reported_tcb_snp",
                        "reported_tcb_microcode", "platform_tsme_enabled", "platform_smt_enabled",
                        "measurement", "report_data", "init_data", "chip_id"));
  EXPECT_EQ(claims.at("measurement").as_string(), expected.at("measurement").as_string());
  EXPECT_EQ(claims.at("report_data").as_string(), expected.at("report_data").as_string());
  EXPECT_EQ(claims.at("chip_id").as_string(), expected.at("chip_id").as_string());
  if (expected.contains("host_data")) {
    EXPECT_EQ(claims.at("init_data").as_string(), expected.at("host_data").as_string());
  }
  const json::object& tcb = expected.at("reported_tcb").as_object();
  EXPECT_EQ(claims.at("reported_tcb_bootloader"), tcb.at("bootloader"));
  EXPECT_EQ(claims.at("reported_tcb_tee"), tcb.at("tee"));
  EXPECT_EQ(claims.at("reported_tcb_snp"), tcb.at("snp"));
  EXPECT_EQ(claims.at("reported_tcb_microcode"), tcb.at("microcode"));
  if (expected.contains("policy_flags")) {
    const json::object& f = expected.at("policy_flags").as_object();
    EXPECT_EQ(fmt::format("{}.{}", claims.at("policy_abi_major").to_number<int>(),
                          claims.at("policy_abi_minor").to_number<int>()),
              f.at("abi").as_string());
    EXPECT_EQ(claims.at("policy_smt_allowed").as_bool(), f.at("smt").to_number<int>() == 1);
    EXPECT_EQ(claims.at("policy_debug_allowed").as_bool(), f.at("debug").to_number<int>() == 1);
  }
}

}  // namespace ccburst::evidence::snp::testing
