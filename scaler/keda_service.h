// The KEDA `externalscaler.ExternalScaler` gRPC service on top of ScalerService. The metric is
// the number of cloud replicas wanted with target 1 (AverageValue), so the HPA's
// ceil(value / target) lands on exactly that number (see docs/bursting.md for the 10 % tolerance).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "externalscaler.grpc.pb.h"
#include "scaler/scaler_service.h"

namespace ccburst::scaler {

class KedaScaler final : public externalscaler::ExternalScaler::Service {
 public:
  // `service` must outlive this object. StreamIsActive re-evaluates every `stream_interval`.
  KedaScaler(ScalerService& service, std::chrono::milliseconds stream_interval)
      : service_(service), stream_interval_(stream_interval) {}

  // Ends every StreamIsActive loop (call before grpc::Server::Shutdown).
  void BeginShutdown();

  grpc::Status IsActive(grpc::ServerContext* context,
                        const externalscaler::ScaledObjectRef* request,
                        externalscaler::IsActiveResponse* response) override;
  grpc::Status StreamIsActive(
      grpc::ServerContext* context, const externalscaler::ScaledObjectRef* request,
      grpc::ServerWriter<externalscaler::IsActiveResponse>* writer) override;
  grpc::Status GetMetricSpec(grpc::ServerContext* context,
                             const externalscaler::ScaledObjectRef* request,
                             externalscaler::GetMetricSpecResponse* response) override;
  grpc::Status GetMetrics(grpc::ServerContext* context,
                          const externalscaler::GetMetricsRequest* request,
                          externalscaler::GetMetricsResponse* response) override;

 private:
  ScalerService& service_;
  std::chrono::milliseconds stream_interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool shutdown_ = false;
};

// Converts the protobuf reference.
ObjectRef ToObjectRef(const externalscaler::ScaledObjectRef& ref);

}  // namespace ccburst::scaler
