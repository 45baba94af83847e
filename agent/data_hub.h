// The guest's confidential data hub: one attested KBS client behind a lock, and the operations
// the workload asks for (a resource, the attestation token, fresh evidence, an unsealed secret),
// each a value or a status naming the failed step. `NewApiHandler` serves them over HTTP with the
// paths, query names and statuses of the reference guest-components API server
// (api-server-rest): GET /cdh/resource/<repo>/<type>/<tag>, GET /aa/token?token_type=kbs,
// GET /aa/evidence?runtime_data=..; 200 application/octet-stream, 400 for a missing query
// parameter, 403 for a non-loopback peer, 404 for an unknown path, 405 for another method, 500
// with the error text when the operation fails. ccburst adds POST /cdh/secret (body: a sealed
// secret) -> the secret bytes. Secrets are never logged: a log line names the path, the outcome
// and the size.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "agent/kbs_client.h"
#include "core/status.h"
#include "net/http.h"

namespace ccburst::agent {

class DataHub {
 public:
  explicit DataHub(std::unique_ptr<KbsClient> client);

  // `resource` is "kbs:///repo/type/tag" or "repo/type/tag" (checked before any request).
  absl::StatusOr<std::string> GetResource(std::string_view resource);
  // The EAR token for `token_type` "kbs" (cached until it expires); another type is
  // InvalidArgument.
  absl::StatusOr<std::string> Token(std::string_view token_type);
  // The TEE evidence JSON with `runtime_data` (at most 64 bytes, zero-padded) as report data, as
  // the reference attestation agent's GetEvidence.
  absl::StatusOr<std::string> Evidence(std::string_view runtime_data);
  // The secret a sealed secret names (vault type, provider kbs).
  absl::StatusOr<std::string> Unseal(std::string_view sealed);

 private:
  std::mutex mu_;  // KbsClient and its HTTP connection serve one request at a time
  std::unique_ptr<KbsClient> client_;
};

// The HTTP handler of `ccburst-agent serve` over `hub` (which must outlive it).
net::HttpHandler NewApiHandler(DataHub& hub);

}  // namespace ccburst::agent
