// Test helpers over the real NVIDIA vectors in ../shared/testdata/nvidia. Test-only.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing/status_matchers.h"

namespace ccburst::evidence::nvidia::testing {

inline std::string NvidiaDir() { return fmt::format("{}/testdata/nvidia", CCB_SHARED_DIR); }
inline std::string CaseDir(std::string_view name) {
  return fmt::format("{}/{}", NvidiaDir(), name);
}
inline std::string Read(const std::string& path) {
  auto data = core::ReadFile(path);
  EXPECT_OK(data);
  return data.ok() ? *data : std::string();
}
inline boost::json::object CaseJson(std::string_view name) {
  auto v = core::ParseJson(Read(CaseDir(name) + "/case.json"));
  EXPECT_OK(v);
  return v.ok() ? v->as_object() : boost::json::object();
}
inline core::TimePoint VerifyAt(std::string_view name) {
  auto t = core::ParseRfc3339(std::string(CaseJson(name).at("verify_at").as_string()));
  EXPECT_OK(t);
  return t.ok() ? *t : core::TimePoint();
}

inline constexpr std::string_view kN1 = "n1-h100-nvtrust-sample";
inline std::string N1Report() { return Read(CaseDir(kN1) + "/report.bin"); }
inline std::string N1Chain() { return Read(CaseDir(kN1) + "/cert_chain.pem"); }

}  // namespace ccburst::evidence::nvidia::testing
