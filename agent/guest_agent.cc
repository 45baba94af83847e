#include "agent/guest_agent.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/file.h"
#include "core/toml_config.h"
#include "crypto/key.h"
#include "net/http_client.h"

namespace ccburst::agent {

namespace cfg = core::config;

absl::Status LoadAgentConfig(const std::string& path, AgentSettings& s) {
  CCB_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  CCB_ASSIGN_OR_RETURN(toml::table t, cfg::ParseToml(text, "config"));
  CCB_RETURN_IF_ERROR(cfg::CheckKeys(t, "",
                                     {"tee", "kbs_url", "kbs_cert", "initdata", "configfs_root",
                                      "tpm", "imds_url", "ccel", "tee_key_alg", "listen"}));
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  CCB_RETURN_IF_ERROR(cfg::GetString(t, "", "tee", s.tee));
  CCB_RETURN_IF_ERROR(cfg::GetOptString(t, "", "kbs_url", s.kbs_url));
  CCB_RETURN_IF_ERROR(cfg::GetOptString(t, "", "kbs_cert", s.kbs_cert));
  CCB_RETURN_IF_ERROR(cfg::GetOptString(t, "", "initdata", s.initdata));
  if (s.kbs_cert) s.kbs_cert = cfg::ResolvePath(dir, *s.kbs_cert);
  if (s.initdata) s.initdata = cfg::ResolvePath(dir, *s.initdata);
  CCB_RETURN_IF_ERROR(cfg::GetString(t, "", "configfs_root", s.attester.configfs_root));
  CCB_RETURN_IF_ERROR(cfg::GetString(t, "", "tpm", s.attester.tpm_tcti));
  CCB_RETURN_IF_ERROR(cfg::GetString(t, "", "imds_url", s.attester.imds_url));
  CCB_RETURN_IF_ERROR(cfg::GetString(t, "", "ccel", s.attester.ccel_path));
  CCB_RETURN_IF_ERROR(cfg::GetString(t, "", "tee_key_alg", s.tee_key_alg));
  CCB_RETURN_IF_ERROR(cfg::GetString(t, "", "listen", s.listen));
  return absl::OkStatus();
}

absl::StatusOr<Agent> StartAgent(const AgentSettings& s) {
  Agent agent;
  // 1. Init-data, if the pod has one.
  if (s.initdata) {
    CCB_ASSIGN_OR_RETURN(std::string text, core::ReadFile(*s.initdata));
    CCB_ASSIGN_OR_RETURN(agent.init_data, ParseInitData(text));
  }
  // 2. The attester.
  CCB_ASSIGN_OR_RETURN(std::unique_ptr<Attester> attester, MakeAttester(s.tee, s.attester));
  agent.tee = attester->tee();
  // 3. The TEE must have measured this init-data, or the KBS would refuse every attestation.
  if (agent.init_data) {
    CCB_RETURN_IF_ERROR(attester->CheckInitData(agent.init_data->digest), "init-data");
  }
  // 4. The KBS client: URL and pinned certificate from the settings, else from init-data.
  net::HttpClientOptions http;
  if (s.kbs_url) {
    http.base_url = *s.kbs_url;
  } else if (agent.init_data && agent.init_data->kbs_url) {
    http.base_url = *agent.init_data->kbs_url;
  } else {
    return absl::InvalidArgumentError(
        "kbs: no KBS URL (--kbs-url or init-data cdh.toml [kbc] url)");
  }
  if (s.kbs_cert) {
    http.ca_certificate_file = *s.kbs_cert;
  } else if (agent.init_data && agent.init_data->kbs_cert) {
    http.ca_certificate_pem = *agent.init_data->kbs_cert;
  }
  http.timeout = s.kbs_timeout;
  http.max_response_bytes = s.max_kbs_response_bytes;
  agent.kbs_url = http.base_url;
  CCB_ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> client,
                       net::HttpClient::Create(std::move(http)), "kbs");
  crypto::PrivateKey key = (s.tee_key_alg == "RSA-OAEP-256" || s.tee_key_alg == "RSA1_5")
                               ? crypto::PrivateKey::GenerateRsa(2048)
                               : crypto::PrivateKey::GenerateEcP256();
  auto kbs = std::make_unique<KbsClient>(std::move(client), std::move(attester), std::move(key),
                                         s.tee_key_alg);
  if (agent.init_data) kbs->set_init_data(agent.init_data->toml);
  agent.hub = std::make_unique<DataHub>(std::move(kbs));
  return agent;
}

}  // namespace ccburst::agent
