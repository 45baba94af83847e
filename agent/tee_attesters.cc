// TDX and SEV-SNP attesters: configfs-tsm first (agent/tsm.h), the legacy guest devices as
// fallbacks. Their evidence is what the KBS verifiers take (evidence/tdx/evidence.h,
// evidence/snp/evidence.h), as the reference guest-components attesters send it:
//   tdx: {"quote": base64 v4/v5 quote, "cc_eventlog": base64 CCEL or null}
//   snp: {"report": base64 report, "auxblob": base64 certificate table or null}
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/sev-guest.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/attesters.h"
#include "agent/tsm.h"
#include "core/encoding.h"
#include "core/file.h"
#include "evidence/snp/report.h"
#include "evidence/tdx/quote.h"

namespace ccburst::agent {
namespace {

namespace json = core::json;

// linux/tdx-guest.h (uapi, Linux 6.2+; not shipped by Debian 12's linux-libc-dev):
//   struct tdx_report_req { __u8 reportdata[64]; __u8 tdreport[1024]; };
//   #define TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct tdx_report_req)
struct TdxReportReq {
  uint8_t reportdata[64];
  uint8_t tdreport[1024];
};
constexpr unsigned long kTdxCmdGetReport0 = _IOWR('T', 1, TdxReportReq);
// TDREPORT_STRUCT: REPORTMACSTRUCT (256) + TEE_TCB_INFO (239) + reserved (17) + TDINFO, whose
// ATTRIBUTES (8), XFAM (8) and MRTD (48) precede MRCONFIGID (48).
constexpr size_t kTdreportMrConfigIdOffset = 512 + 8 + 8 + 48;

constexpr std::chrono::milliseconds kDetectWait{500};

std::string Pad(std::string_view data, size_t len) {
  std::string out(data.substr(0, std::min(data.size(), len)));
  out.resize(len, '\0');
  return out;
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status CheckDigest(std::string_view tee, std::string_view field, std::string_view reported,
                         std::string_view digest) {
  if (Pad(digest, reported.size()) == reported) return absl::OkStatus();
  return absl::PermissionDeniedError(fmt::format("{}: {} {} does not match the init-data digest {}",
                                                 tee, field, core::HexEncode(reported),
                                                 core::HexEncode(Pad(digest, reported.size()))));
}

class TdxAttester final : public Attester {
 public:
  explicit TdxAttester(AttesterOptions options, bool use_tsm)
      : options_(std::move(options)), use_tsm_(use_tsm) {}

  std::string tee() const override { return "tdx"; }

  absl::StatusOr<json::value> Evidence(std::string_view report_data) const override {
    CCB_ASSIGN_OR_RETURN(std::string quote, Quote(Pad(report_data, 64)));
    json::value log = nullptr;
    if (auto ccel = core::ReadFile(options_.ccel_path); ccel.ok() && !ccel->empty()) {
      log = core::Base64Encode(*ccel);
    }
    return json::object{{"quote", core::Base64Encode(quote)}, {"cc_eventlog", std::move(log)}};
  }

  absl::Status CheckInitData(std::string_view digest) const override {
    std::string mr_config_id;
    if (use_tsm_) {
      CCB_ASSIGN_OR_RETURN(std::string quote, Quote(std::string(64, '\0')));
      CCB_ASSIGN_OR_RETURN(evidence::tdx::Quote parsed, evidence::tdx::ParseQuote(quote),
                           "tdx: quote from configfs-tsm");
      mr_config_id = parsed.body.mr_config_id;
    } else {
      CCB_ASSIGN_OR_RETURN(std::string tdreport, TdReport(std::string(64, '\0')));
      mr_config_id = tdreport.substr(kTdreportMrConfigIdOffset, 48);
    }
    return CheckDigest("tdx", "mr_config_id", mr_config_id, digest);
  }

 private:
  absl::StatusOr<std::string> Quote(const std::string& report_data) const {
    if (!use_tsm_) {
      return absl::UnimplementedError(fmt::format(
          "tdx: `{}` gives a TDREPORT only; a quote needs configfs-tsm (Linux 6.7+) at `{}`",
          options_.tdx_guest_device, options_.configfs_root));
    }
    TsmOptions tsm;
    tsm.root = options_.configfs_root;
    tsm.provider = "tdx_guest";
    CCB_ASSIGN_OR_RETURN(TsmReport report, TsmGetReport(tsm, report_data), "tdx");
    return std::move(report.outblob);
  }

  // TDX_CMD_GET_REPORT0 on the legacy device.
  absl::StatusOr<std::string> TdReport(const std::string& report_data) const {
    Fd fd(::open(options_.tdx_guest_device.c_str(), O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) {
      return absl::UnavailableError(fmt::format("tdx: cannot open `{}`: {}",
                                                options_.tdx_guest_device, std::strerror(errno)));
    }
    TdxReportReq req{};
    std::memcpy(req.reportdata, report_data.data(), 64);
    if (::ioctl(fd.get(), kTdxCmdGetReport0, &req) != 0) {
      return absl::UnavailableError(
          fmt::format("tdx: TDX_CMD_GET_REPORT0 failed: {}", std::strerror(errno)));
    }
    return std::string(reinterpret_cast<const char*>(req.tdreport), sizeof(req.tdreport));
  }

  AttesterOptions options_;
  bool use_tsm_;
};

class SnpAttester final : public Attester {
 public:
  explicit SnpAttester(AttesterOptions options, bool use_tsm)
      : options_(std::move(options)), use_tsm_(use_tsm) {}

  std::string tee() const override { return "snp"; }

  absl::StatusOr<json::value> Evidence(std::string_view report_data) const override {
    CCB_ASSIGN_OR_RETURN(TsmReport report, Report(Pad(report_data, 64)));
    json::value aux = nullptr;
    if (!report.auxblob.empty()) aux = core::Base64Encode(report.auxblob);
    return json::object{{"report", core::Base64Encode(report.outblob)},
                        {"auxblob", std::move(aux)}};
  }

  absl::Status CheckInitData(std::string_view digest) const override {
    CCB_ASSIGN_OR_RETURN(TsmReport report, Report(std::string(64, '\0')));
    CCB_ASSIGN_OR_RETURN(evidence::snp::Report parsed, evidence::snp::ParseReport(report.outblob),
                         "snp: report");
    return CheckDigest("snp", "host_data", parsed.host_data, digest);
  }

 private:
  absl::StatusOr<TsmReport> Report(const std::string& report_data) const {
    if (use_tsm_) {
      TsmOptions tsm;
      tsm.root = options_.configfs_root;
      tsm.provider = "sev_guest";
      tsm.read_auxblob = true;
      CCB_ASSIGN_OR_RETURN(TsmReport report, TsmGetReport(tsm, report_data), "snp");
      return report;
    }
    return IoctlReport(report_data);
  }

  // SNP_GET_EXT_REPORT on the legacy device (linux/sev-guest.h): the report and the certificate
  // table the host installed. The response (SEV-SNP ABI, MSG_REPORT_RSP) holds status (u32),
  // report_size (u32), 24 reserved bytes, then the report.
  absl::StatusOr<TsmReport> IoctlReport(const std::string& report_data) const {
    Fd fd(::open(options_.sev_guest_device.c_str(), O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) {
      return absl::UnavailableError(fmt::format("snp: cannot open `{}`: {}",
                                                options_.sev_guest_device, std::strerror(errno)));
    }
    snp_ext_report_req req{};
    std::memcpy(req.data.user_data, report_data.data(), 64);
    snp_report_resp resp{};
    std::string certs(4 * 4096, '\0');
    snp_guest_request_ioctl io{};
    for (int attempt = 0; attempt < 2; ++attempt) {
      req.certs_address = reinterpret_cast<uint64_t>(certs.data());
      req.certs_len = static_cast<uint32_t>(certs.size());
      io = {};
      io.msg_version = 1;
      io.req_data = reinterpret_cast<uint64_t>(&req);
      io.resp_data = reinterpret_cast<uint64_t>(&resp);
      if (::ioctl(fd.get(), SNP_GET_EXT_REPORT, &io) == 0) break;
      // The host's certificates need more room: the kernel says how much in certs_len.
      if ((io.exitinfo2 >> 32) == SNP_GUEST_VMM_ERR_INVALID_LEN && attempt == 0 &&
          req.certs_len <= (1u << 20)) {
        certs.assign(req.certs_len, '\0');
        continue;
      }
      return absl::UnavailableError(fmt::format("snp: SNP_GET_EXT_REPORT failed: {} (fw 0x{:x})",
                                                std::strerror(errno), io.exitinfo2 & 0xffffffff));
    }
    const auto* data = reinterpret_cast<const char*>(resp.data);
    uint32_t status = 0, size = 0;
    std::memcpy(&status, data, 4);
    std::memcpy(&size, data + 4, 4);
    if (status != 0 || size == 0 || size > sizeof(resp.data) - 32) {
      return absl::UnavailableError(
          fmt::format("snp: report response status 0x{:x}, size {}", status, size));
    }
    TsmReport out;
    out.outblob.assign(data + 32, size);
    // The table ends with an all-zero entry; an all-zero first entry means no certificates.
    if (certs.find_first_not_of('\0') != std::string::npos) out.auxblob = std::move(certs);
    return out;
  }

  AttesterOptions options_;
  bool use_tsm_;
};

bool TsmIs(const AttesterOptions& options, std::string_view provider) {
  if (!IsDir(options.configfs_root)) return false;
  auto p = TsmProvider(options.configfs_root, kDetectWait);
  return p.ok() && *p == provider;
}

}  // namespace

bool DetectTdx(const AttesterOptions& options) {
  return Exists(options.tdx_guest_device) || TsmIs(options, "tdx_guest");
}

bool DetectSnp(const AttesterOptions& options) {
  return Exists(options.sev_guest_device) || TsmIs(options, "sev_guest");
}

absl::StatusOr<std::unique_ptr<Attester>> NewTdxAttester(const AttesterOptions& options) {
  bool tsm = IsDir(options.configfs_root);
  if (!tsm && !Exists(options.tdx_guest_device)) {
    return absl::FailedPreconditionError(
        fmt::format("tdx: neither configfs-tsm `{}` nor `{}` exists", options.configfs_root,
                    options.tdx_guest_device));
  }
  return std::unique_ptr<Attester>(std::make_unique<TdxAttester>(options, tsm));
}

absl::StatusOr<std::unique_ptr<Attester>> NewSnpAttester(const AttesterOptions& options) {
  bool tsm = IsDir(options.configfs_root);
  if (!tsm && !Exists(options.sev_guest_device)) {
    return absl::FailedPreconditionError(
        fmt::format("snp: neither configfs-tsm `{}` nor `{}` exists", options.configfs_root,
                    options.sev_guest_device));
  }
  return std::unique_ptr<Attester>(std::make_unique<SnpAttester>(options, tsm));
}

}  // namespace ccburst::agent
