#include "burst/keda_driver.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <chrono>

#include "externalscaler.grpc.pb.h"
#include "scaler/config.h"
#include "scaler/sources.h"

namespace ccburst::burst {
namespace {

using externalscaler::ExternalScaler;

absl::Status FromGrpc(const grpc::Status& s, std::string_view what) {
  return absl::UnavailableError(fmt::format("keda: {}: grpc {}: {}", what,
                                            static_cast<int>(s.error_code()), s.error_message()));
}

class ExternalPushTrigger final : public Trigger {
 public:
  ExternalPushTrigger(std::string address, std::string name, std::string workload)
      : stub_(ExternalScaler::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
    ref_.set_name(std::move(name));
    ref_.set_namespace_("default");
    (*ref_.mutable_scalermetadata())["workload"] = std::move(workload);
    (*ref_.mutable_scalermetadata())["scalerAddress"] = address;
    stream_ = std::thread([this] { ReadStream(); });
  }
  ~ExternalPushTrigger() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      if (stream_ctx_) stream_ctx_->TryCancel();
    }
    stream_.join();
  }

  absl::StatusOr<std::pair<std::string, double>> MetricSpec() override {
    grpc::ClientContext ctx;
    Deadline(ctx);
    externalscaler::GetMetricSpecResponse resp;
    ++rpcs_;
    grpc::Status s = stub_->GetMetricSpec(&ctx, ref_, &resp);
    if (!s.ok()) return FromGrpc(s, "GetMetricSpec");
    if (resp.metricspecs_size() != 1) {
      return absl::InvalidArgumentError(
          fmt::format("keda: GetMetricSpec returned {} specs, want 1", resp.metricspecs_size()));
    }
    const auto& spec = resp.metricspecs(0);
    double target = spec.targetsizefloat() > 0 ? spec.targetsizefloat() : spec.targetsize();
    // KEDA announces external metrics to the HPA as "s<trigger index>-<name>".
    metric_name_ = fmt::format("s0-{}", spec.metricname());
    return std::make_pair(metric_name_, target);
  }

  absl::StatusOr<bool> IsActive() override {
    grpc::ClientContext ctx;
    Deadline(ctx);
    externalscaler::IsActiveResponse resp;
    ++rpcs_;
    grpc::Status s = stub_->IsActive(&ctx, ref_, &resp);
    if (!s.ok()) return FromGrpc(s, "IsActive");
    return resp.result();
  }

  absl::StatusOr<double> Metric() override {
    grpc::ClientContext ctx;
    Deadline(ctx);
    externalscaler::GetMetricsRequest req;
    *req.mutable_scaledobjectref() = ref_;
    req.set_metricname(metric_name_);
    externalscaler::GetMetricsResponse resp;
    ++rpcs_;
    grpc::Status s = stub_->GetMetrics(&ctx, req, &resp);
    if (!s.ok()) return FromGrpc(s, "GetMetrics");
    if (resp.metricvalues_size() != 1) {
      return absl::InvalidArgumentError(
          fmt::format("keda: GetMetrics returned {} values, want 1", resp.metricvalues_size()));
    }
    const auto& v = resp.metricvalues(0);
    return v.metricvaluefloat() != 0 ? v.metricvaluefloat() : static_cast<double>(v.metricvalue());
  }

  std::optional<bool> TakePushed() override {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(pushed_, std::nullopt);
  }

  int64_t rpcs() const override { return rpcs_ + stream_messages_; }

 private:
  static void Deadline(grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  // Holds StreamIsActive open, reconnecting after a failure as KEDA does.
  void ReadStream() {
    while (true) {
      auto ctx = std::make_unique<grpc::ClientContext>();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
        stream_ctx_ = ctx.get();
      }
      auto reader = stub_->StreamIsActive(ctx.get(), ref_);
      externalscaler::IsActiveResponse r;
      while (reader->Read(&r)) {
        ++stream_messages_;
        std::lock_guard<std::mutex> lock(mu_);
        pushed_ = r.result();
      }
      reader->Finish();
      {
        std::lock_guard<std::mutex> lock(mu_);
        stream_ctx_ = nullptr;
        if (stopping_) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  std::unique_ptr<ExternalScaler::Stub> stub_;
  externalscaler::ScaledObjectRef ref_;
  std::string metric_name_;
  std::atomic<int64_t> rpcs_{0};
  std::atomic<int64_t> stream_messages_{0};
  std::mutex mu_;
  bool stopping_ = false;
  grpc::ClientContext* stream_ctx_ = nullptr;
  std::optional<bool> pushed_;
  std::thread stream_;
};

class PrometheusTrigger final : public Trigger {
 public:
  PrometheusTrigger(std::unique_ptr<scaler::PrometheusClient> client, std::string query,
                    double threshold, double activation)
      : client_(std::move(client)),
        query_(std::move(query)),
        threshold_(threshold),
        activation_(activation) {}

  absl::StatusOr<std::pair<std::string, double>> MetricSpec() override {
    return std::make_pair(std::string("s0-prometheus"), threshold_);
  }
  absl::StatusOr<bool> IsActive() override {
    CCB_ASSIGN_OR_RETURN(double v, Query());
    return v > activation_;
  }
  absl::StatusOr<double> Metric() override { return Query(); }
  int64_t rpcs() const override { return queries_; }

 private:
  absl::StatusOr<double> Query() {
    ++queries_;
    return client_->Query(query_);
  }

  std::unique_ptr<scaler::PrometheusClient> client_;
  std::string query_;
  double threshold_;
  double activation_;
  std::atomic<int64_t> queries_{0};
};

}  // namespace

absl::StatusOr<std::unique_ptr<Trigger>> NewExternalPushTrigger(std::string address,
                                                                std::string name,
                                                                std::string workload) {
  return std::unique_ptr<Trigger>(
      new ExternalPushTrigger(std::move(address), std::move(name), std::move(workload)));
}

absl::StatusOr<std::unique_ptr<Trigger>> NewPrometheusTrigger(std::string address,
                                                              std::string query, double threshold,
                                                              double activation_threshold) {
  scaler::PrometheusConfig config;
  config.address = address;
  CCB_ASSIGN_OR_RETURN(auto client, scaler::PrometheusClient::Create(config, address));
  return std::unique_ptr<Trigger>(
      new PrometheusTrigger(std::move(client), std::move(query), threshold, activation_threshold));
}

KedaDriver::KedaDriver(ScaledObjectSpec spec, std::unique_ptr<Trigger> trigger)
    : trigger_(std::move(trigger)), model_(std::move(spec)) {}

std::optional<ScaleEvent> KedaDriver::Step(double now, int current) {
  if (metric_name_.empty()) {
    auto spec = trigger_->MetricSpec();
    if (!spec.ok()) {
      last_error_ = core::Message(spec.status());
      return std::nullopt;
    }
    last_error_.clear();
    metric_name_ = spec->first;
    target_ = spec->second;
  }
  bool pushed = trigger_->TakePushed().has_value();
  scaler::TriggerReads reads{[this] { return trigger_->IsActive(); },
                             [this] { return trigger_->Metric(); }};
  return model_.Step(now, current, pushed, reads, target_);
}

}  // namespace ccburst::burst
