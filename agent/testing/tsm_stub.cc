#include "agent/testing/tsm_stub.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

#include "core/encoding.h"
#include "core/file.h"
#include "core/json.h"
#include "evidence/snp/testing/generator.h"
#include "evidence/tdx/testing/quote_generator.h"

namespace ccburst::agent::testing {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

// Written whole to a temporary name and renamed, so the agent never reads half a file.
void WriteAtomic(const fs::path& path, std::string_view data) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TsmStub>> TsmStub::Start(TsmStubOptions options) {
  std::error_code ec;
  fs::create_directories(options.root, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("tsm-stub: cannot create `{}`: {}", options.root, ec.message()));
  }
  std::unique_ptr<TsmStub> stub(new TsmStub(std::move(options)));
  TsmStub* self = stub.get();
  stub->thread_ = std::thread([self] {
    while (!self->stop_) {
      self->Poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  return stub;
}

TsmStub::~TsmStub() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void TsmStub::Poll() {
  std::error_code ec;
  auto now = SteadyClock::now();
  for (fs::directory_iterator it(options_.root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory()) continue;
    const fs::path dir = it->path();
    std::string name = dir.filename().string();
    auto [state, created] = entries_.try_emplace(name);
    if (created || !fs::exists(dir / "provider")) {
      // As the kernel's mkdir: the attributes appear with the entry.
      state->second = EntryState{0, now};
      WriteAtomic(dir / "generation", "0\n");
      WriteAtomic(dir / "provider", options_.provider + "\n");
      continue;
    }
    fs::path inblob = dir / "inblob";
    std::error_code size_ec;
    auto size = fs::file_size(inblob, size_ec);
    if (size_ec || size == 0) {
      if (now - state->second.last_activity > std::chrono::seconds(10)) {
        fs::remove_all(dir, ec);
        entries_.erase(state);
        ec.clear();
      }
      continue;
    }
    auto data = core::ReadFile(inblob.string());
    fs::remove(inblob, ec);  // consumed: the next write makes a new file
    ec.clear();
    if (!data.ok() || data->size() > 64) continue;
    std::string report_data = *data;
    report_data.resize(64, '\0');
    auto report = options_.generate(report_data);
    if (!report.ok()) {
      spdlog::error("tsm-stub: {}", core::Message(report.status()));
      continue;
    }
    WriteAtomic(dir / "outblob", report->outblob);
    if (!report->auxblob.empty()) WriteAtomic(dir / "auxblob", report->auxblob);
    state->second.generation += race_ ? 2 : 1;
    state->second.last_activity = now;
    WriteAtomic(dir / "generation", fmt::format("{}\n", state->second.generation));
    ++reports_;
  }
}

absl::StatusOr<TsmStubOptions> HierarchyStubOptions(std::string_view tee, const std::string& dir,
                                                    std::string_view config_hex,
                                                    std::string_view measurement_hex) {
  CCB_ASSIGN_OR_RETURN(std::string config, core::HexDecode(config_hex), "tsm-stub: config");
  CCB_ASSIGN_OR_RETURN(std::string measurement, core::HexDecode(measurement_hex),
                       "tsm-stub: measurement");
  TsmStubOptions options;
  if (tee == "tdx") {
    if (measurement.size() > 48) {
      return absl::InvalidArgumentError("tsm-stub: the TDX MRTD is at most 48 bytes");
    }
    using H = evidence::tdx::testing::TdxTestHierarchy;
    CCB_ASSIGN_OR_RETURN(std::shared_ptr<const H> h, H::Load(dir));
    options.provider = "tdx_guest";
    options.generate = [h, config,
                        measurement](std::string_view rd) -> absl::StatusOr<TsmStubReport> {
      evidence::tdx::testing::QuoteSpec spec;
      spec.report_data = std::string(rd);
      spec.mr_config_id = config;
      if (!measurement.empty()) spec.mr_td = measurement;
      CCB_ASSIGN_OR_RETURN(std::string quote, h->IssueQuote(spec));
      return TsmStubReport{std::move(quote), {}};
    };
    return options;
  }
  if (tee == "snp") {
    using H = evidence::snp::testing::TestHierarchy;
    CCB_ASSIGN_OR_RETURN(std::shared_ptr<const H> h, H::Load(dir));
    options.provider = "sev_guest";
    options.generate = [h, config,
                        measurement](std::string_view rd) -> absl::StatusOr<TsmStubReport> {
      evidence::snp::testing::ReportSpec spec;
      spec.report_data = std::string(rd);
      spec.host_data = config;
      if (!measurement.empty()) spec.measurement = measurement;
      CCB_ASSIGN_OR_RETURN(core::json::value ev, core::ParseJson(h->TsmEvidenceJson(spec)));
      const auto& o = ev.get_object();
      TsmStubReport out;
      CCB_ASSIGN_OR_RETURN(out.outblob,
                           core::Base64Decode(std::string_view(o.at("report").as_string())));
      if (const auto* aux = o.if_contains("auxblob"); aux != nullptr && aux->is_string()) {
        CCB_ASSIGN_OR_RETURN(out.auxblob, core::Base64Decode(std::string_view(aux->as_string())));
      }
      return out;
    };
    return options;
  }
  return absl::InvalidArgumentError(
      fmt::format("tsm-stub: unsupported tee `{}` (tdx or snp)", tee));
}

}  // namespace ccburst::agent::testing
