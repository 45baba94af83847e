#include "agent/vtpm/azure_attester.h"

#include "core/encoding.h"
#include "evidence/azure/hcl.h"
#include "evidence/azure/tpm.h"

namespace ccburst::agent::vtpm {
namespace {

namespace az = evidence::azure;

absl::StatusOr<az::HclReport> ReadHclReport(Tpm& tpm, uint32_t index) {
  CCB_ASSIGN_OR_RETURN(std::string bytes, tpm.ReadNv(index), "reading the HCL report");
  return az::ParseHclReport(bytes);
}

az::HwReportType ReportTypeOf(az::Platform p) {
  return p == az::Platform::kTdx ? az::HwReportType::kTdx : az::HwReportType::kSnp;
}

class AzureVtpmAttester final : public Attester {
 public:
  AzureVtpmAttester(az::Platform platform, AzureVtpmOptions options)
      : platform_(platform), options_(std::move(options)), imds_(options_.imds_url) {}

  std::string tee() const override { return std::string(az::TeeName(platform_)); }

  // Attester::CheckInitData, the agent's init-data check (PCR8).
  absl::Status CheckInitData(std::string_view digest) const override {
    return CheckInitDataPcr(digest, options_.tcti);
  }

  absl::StatusOr<core::json::value> Evidence(std::string_view report_data) const override {
    absl::StatusOr<core::json::value> ev = Collect(report_data);
    if (!ev.ok()) return core::Annotate(ev.status(), tee());
    return ev;
  }

 private:
  // 1. the HCL report, 2. the quote over the session binding, 3. the AK self-check, 4. IMDS.
  absl::StatusOr<core::json::value> Collect(std::string_view report_data) const {
    CCB_ASSIGN_OR_RETURN(std::unique_ptr<Tpm> tpm, Tpm::Open(options_.tcti));
    az::Evidence ev;
    ev.version = 1;
    CCB_ASSIGN_OR_RETURN(ev.hcl_report, tpm->ReadNv(options_.hcl_report_nv_index),
                         "reading the HCL report");
    CCB_ASSIGN_OR_RETURN(az::HclReport hcl, az::ParseHclReport(ev.hcl_report));
    if (hcl.type != ReportTypeOf(platform_)) {
      return absl::FailedPreconditionError(
          fmt::format("the HCL report carries a {} report, this is not an {} VM",
                      az::HwReportTypeName(hcl.type), tee()));
    }

    CCB_ASSIGN_OR_RETURN(TpmQuoteResult q, tpm->Quote(options_.ak_handle, report_data));
    ev.tpm_quote = {std::move(q.signature), std::move(q.message), std::move(q.pcrs)};
    tpm.reset();  // the TPM is not needed for the IMDS call

    // The KBS would refuse a quote by another key with a less helpful reason.
    CCB_ASSIGN_OR_RETURN(az::RuntimeData runtime, az::ParseRuntimeData(hcl.var_data));
    CCB_RETURN_IF_ERROR(
        az::VerifyQuoteSignature(runtime.ak_pub, ev.tpm_quote.message, ev.tpm_quote.signature),
        "the key at 0x{:08x} is not the HCL report's HCLAkPub", options_.ak_handle);

    if (platform_ == az::Platform::kTdx) {
      CCB_ASSIGN_OR_RETURN(ev.td_quote, imds_.TdQuote(hcl.hw_report));
    } else {
      CCB_ASSIGN_OR_RETURN(ev.vcek, imds_.VcekDer());
    }
    return core::json::value(az::EvidenceToJson(ev, platform_));
  }

  az::Platform platform_;
  AzureVtpmOptions options_;
  Imds imds_;
};

}  // namespace

absl::StatusOr<az::Platform> DetectAzureVtpm(const AzureVtpmOptions& options) {
  CCB_ASSIGN_OR_RETURN(std::unique_ptr<Tpm> tpm, Tpm::Open(options.tcti));
  CCB_ASSIGN_OR_RETURN(az::HclReport hcl, ReadHclReport(*tpm, options.hcl_report_nv_index));
  return hcl.type == az::HwReportType::kTdx ? az::Platform::kTdx : az::Platform::kSnp;
}

bool IsAzureVtpm(az::Platform platform, const AzureVtpmOptions& options) {
  absl::StatusOr<az::Platform> found = DetectAzureVtpm(options);
  return found.ok() && *found == platform;
}

absl::StatusOr<std::unique_ptr<Attester>> NewAzureVtpmAttester(std::string_view tee,
                                                               AzureVtpmOptions options) {
  az::Platform platform;
  if (tee == az::TeeName(az::Platform::kTdx)) {
    platform = az::Platform::kTdx;
  } else if (tee == az::TeeName(az::Platform::kSnp)) {
    platform = az::Platform::kSnp;
  } else {
    return absl::InvalidArgumentError(
        fmt::format("vtpm: unknown TEE \"{}\", expected az-tdx-vtpm or az-snp-vtpm", tee));
  }
  return std::make_unique<AzureVtpmAttester>(platform, std::move(options));
}

absl::StatusOr<std::string> ReadInitDataPcr(std::string_view tcti) {
  CCB_ASSIGN_OR_RETURN(std::unique_ptr<Tpm> tpm, Tpm::Open(tcti));
  CCB_ASSIGN_OR_RETURN(az::Pcrs pcrs, tpm->ReadPcrs());
  return pcrs[az::kInitDataPcr];
}

absl::Status CheckInitDataPcr(std::string_view digest, std::string_view tcti) {
  CCB_ASSIGN_OR_RETURN(std::string pcr8, ReadInitDataPcr(tcti));
  std::string want = az::InitDataPcrValue(digest);
  if (pcr8 != want) {
    return absl::PermissionDeniedError(fmt::format(
        "vtpm: init-data: PCR8 {} does not match sha256(32 zero bytes || init-data digest) {}",
        core::HexEncode(pcr8), core::HexEncode(want)));
  }
  return absl::OkStatus();
}

absl::Status ExtendInitDataPcr(std::string_view digest, std::string_view tcti) {
  if (digest.size() != az::kPcrSize) {
    return absl::InvalidArgumentError(
        fmt::format("vtpm: the init-data digest is {} bytes, PCR8 binds a 32-byte SHA-256 digest",
                    digest.size()));
  }
  CCB_ASSIGN_OR_RETURN(std::unique_ptr<Tpm> tpm, Tpm::Open(tcti));
  return tpm->ExtendPcr(az::kInitDataPcr, digest);
}

}  // namespace ccburst::agent::vtpm
