#include "scaler/keda_service.h"

#include <fmt/format.h>

namespace ccburst::scaler {
namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case absl::StatusCode::kNotFound:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case absl::StatusCode::kUnavailable:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case absl::StatusCode::kPermissionDenied:
      code = grpc::StatusCode::PERMISSION_DENIED;
      break;
    default:
      break;
  }
  return grpc::Status(code, core::Message(s));
}

}  // namespace

ObjectRef ToObjectRef(const externalscaler::ScaledObjectRef& ref) {
  ObjectRef r;
  r.name = ref.name();
  r.ns = ref.namespace_();
  for (const auto& [k, v] : ref.scalermetadata()) r.metadata.emplace(k, v);
  return r;
}

void KedaScaler::BeginShutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

grpc::Status KedaScaler::IsActive(grpc::ServerContext*, const externalscaler::ScaledObjectRef* req,
                                  externalscaler::IsActiveResponse* resp) {
  auto d = service_.Evaluate(ToObjectRef(*req));
  if (!d.ok()) return ToGrpc(d.status());
  resp->set_result(d->replicas > 0);
  return grpc::Status::OK;
}

grpc::Status KedaScaler::StreamIsActive(
    grpc::ServerContext* context, const externalscaler::ScaledObjectRef* req,
    grpc::ServerWriter<externalscaler::IsActiveResponse>* writer) {
  ObjectRef ref = ToObjectRef(*req);
  std::optional<bool> sent;
  while (!context->IsCancelled()) {
    auto d = service_.Evaluate(ref);
    if (!d.ok()) return ToGrpc(d.status());
    bool active = d->replicas > 0;
    // Push on every change; KEDA activates the ScaledObject as soon as it reads `true`.
    if (!sent || *sent != active) {
      externalscaler::IsActiveResponse r;
      r.set_result(active);
      if (!writer->Write(r)) return grpc::Status::OK;  // the client went away
      sent = active;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, stream_interval_, [&] { return shutdown_; })) break;
  }
  return grpc::Status::OK;
}

grpc::Status KedaScaler::GetMetricSpec(grpc::ServerContext*,
                                       const externalscaler::ScaledObjectRef* req,
                                       externalscaler::GetMetricSpecResponse* resp) {
  auto name = service_.MetricName(ToObjectRef(*req));
  if (!name.ok()) return ToGrpc(name.status());
  auto* spec = resp->add_metricspecs();
  spec->set_metricname(*name);
  spec->set_targetsize(1);
  spec->set_targetsizefloat(1.0);
  return grpc::Status::OK;
}

grpc::Status KedaScaler::GetMetrics(grpc::ServerContext*,
                                    const externalscaler::GetMetricsRequest* req,
                                    externalscaler::GetMetricsResponse* resp) {
  ObjectRef ref = ToObjectRef(req->scaledobjectref());
  auto name = service_.MetricName(ref);
  if (!name.ok()) return ToGrpc(name.status());
  auto d = service_.Evaluate(ref);
  if (!d.ok()) return ToGrpc(d.status());
  auto* v = resp->add_metricvalues();
  // KEDA prefixes the announced name ("s0-ccburst-web"); echo what it asked for.
  v->set_metricname(req->metricname().empty() ? *name : req->metricname());
  v->set_metricvalue(d->replicas);
  v->set_metricvaluefloat(d->replicas);
  return grpc::Status::OK;
}

}  // namespace ccburst::scaler
