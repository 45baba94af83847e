// ccburst: the admin and client CLI. Mirrors Trustee's kbs-client (attest, get-resource,
// config ...) and adds key/token/certificate generation, `policy eval` and `verify` (offline
// TDX/SNP evidence verification for operators). Thin: each command calls into agent/, crypto/,
// policy/ or collateral/.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "agent/admin_client.h"
#include "agent/attester.h"
#include "agent/kbs_client.h"
#include "collateral/snp/snp_collateral.h"
#include "collateral/tdx/sources.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/json.h"
#include "crypto/jws.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "kbs/policy_presets.h"
#include "net/http_client.h"
#include "policy/eval_command.h"

namespace {

using namespace ccburst;

int Fail(const absl::Status& s) {
  std::cerr << "ccburst: " << s.message() << "\n";
  return 1;
}

int Usage(const std::string& message) {
  std::cerr << "ccburst verify: " << message << "\n";
  return 2;
}

// `ccburst verify`: exit 0 when verified, 1 when not, 2 on usage errors.
int Verify(const std::string& tee, const std::string& evidence_file,
           const std::string& collateral_dir, const std::string& certs_dir,
           const std::string& trusted_root, const std::string& at_text, int required_vmpl,
           bool as_json) {
  core::TimePoint at = core::SystemClock::Get().Now();
  if (!at_text.empty()) {
    auto parsed = core::ParseRfc3339(at_text);
    if (!parsed.ok()) return Usage("--at: " + std::string(parsed.status().message()));
    at = *parsed;
  }
  boost::json::object result;
  if (tee == "tdx") {
    if (collateral_dir.empty()) return Usage("--collateral DIR is required for tdx");
    if (!certs_dir.empty()) return Usage("--certs is for snp");
    std::optional<std::string> anchor;
    if (!trusted_root.empty()) anchor = trusted_root;
    result = collateral::tdx::RunTdxVerify(evidence_file, collateral_dir, at, anchor);
  } else {
    if (!collateral_dir.empty()) return Usage("--collateral is for tdx (snp takes --certs)");
    if (!trusted_root.empty()) return Usage("--trusted-root is for tdx");
    auto bytes = core::ReadFile(evidence_file);
    if (!bytes.ok()) return Usage(std::string(bytes.status().message()));
    std::optional<std::string> dir;
    if (!certs_dir.empty()) dir = certs_dir;
    evidence::snp::SnpVerifierOptions options;
    options.required_vmpl = static_cast<uint32_t>(required_vmpl);
    result = collateral::snp::RunSnpVerifyCommand(*bytes, dir, at, options);
  }
  const boost::json::value* verified = result.if_contains("verified");
  bool ok = verified && verified->is_bool() && verified->get_bool();
  if (as_json) {
    std::cout << core::Serialize(result) << "\n";
  } else if (ok) {
    std::cout << tee << ": verified at " << core::FormatRfc3339(at);
    if (const auto* s = result.if_contains("tcb_status"); s && s->is_string()) {
      std::cout << ", tcb_status " << s->get_string().c_str();
    }
    if (const auto* a = result.if_contains("advisory_ids");
        a && a->is_array() && !a->get_array().empty()) {
      std::cout << ", advisories " << core::Serialize(*a);
    }
    std::cout << "\n";
  } else {
    const auto* e = result.if_contains("error");
    std::cout << tee << ": NOT verified: "
              << (e && e->is_string() ? std::string(e->get_string()) : "unknown error") << "\n";
  }
  return ok ? 0 : 1;
}

using core::ReadFile;

// Secrets (keys, tokens, released resources) are created 0600 from the start, never chmod'ed
// after the fact (issue 16 item 4).
absl::Status WriteFile(const std::string& path, std::string_view data, bool secret = false) {
  return secret ? core::WriteSecretFile(path, data) : core::WriteFile(path, data);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

struct Global {
  std::string url = "http://127.0.0.1:8080";
  std::string cert_file;
};

absl::StatusOr<std::unique_ptr<net::HttpClient>> Http(const Global& g) {
  net::HttpClientOptions o;
  o.base_url = g.url;
  if (!g.cert_file.empty()) o.ca_certificate_file = g.cert_file;
  return net::HttpClient::Create(std::move(o));
}

absl::StatusOr<std::unique_ptr<agent::KbsClient>> Client(const Global& g, const std::string& alg,
                                                         const std::string& tee_key_file) {
  CCB_ASSIGN_OR_RETURN(auto http, Http(g));
  crypto::PrivateKey key = crypto::PrivateKey::GenerateEcP256();
  if (!tee_key_file.empty()) {
    CCB_ASSIGN_OR_RETURN(key, crypto::PrivateKey::LoadPemFile(tee_key_file));
  } else if (alg == "RSA-OAEP-256" || alg == "RSA1_5") {
    key = crypto::PrivateKey::GenerateRsa(2048);
  } else if (alg == "ECDH-ES+A256KW-P521") {
    key = crypto::PrivateKey::GenerateEcP521();
  }
  std::string wire_alg = alg == "ECDH-ES+A256KW-P521" ? "ECDH-ES+A256KW" : alg;
  return std::make_unique<agent::KbsClient>(std::move(http), agent::NewSampleAttester(),
                                            std::move(key), wire_alg);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ccburst: client and admin CLI for ccburst-kbs (and any Trustee KBS)"};
  app.require_subcommand(1);
  Global g;
  app.add_option("--url", g.url, "KBS base URL")->capture_default_str();
  app.add_option("--cert-file", g.cert_file, "PEM CA certificate to trust for an HTTPS KBS");

  // attest / get-resource: act as a sample TEE (the development TEE of the reference stack).
  std::string tee_key_alg = "ECDH-ES+A256KW";
  const std::vector<std::string> kAlgs{"ECDH-ES+A256KW", "ECDH-ES+A256KW-P521", "RSA-OAEP-256",
                                       "RSA1_5"};
  auto* attest = app.add_subcommand("attest", "attest as a sample TEE and print the EAR token");
  std::string init_data_file;
  attest->add_option("--tee-key-alg", tee_key_alg, "TEE key wrapping algorithm")
      ->check(CLI::IsMember(kAlgs));
  attest->add_option("--init-data", init_data_file, "init-data TOML to bind into the evidence");
  std::string attest_key_file;
  attest->add_option("--tee-key-file", attest_key_file,
                     "PEM private key to bind (default: a fresh key), for later bearer use");

  auto* get = app.add_subcommand("get-resource", "attest (sample TEE) and fetch a resource");
  std::string res_path, output, token_file, tee_key_file;
  get->add_option("--path", res_path, "repository/type/tag")->required();
  get->add_option("--output", output, "write the secret here instead of stdout");
  get->add_option("--attestation-token", token_file, "use this EAR token (passport model)");
  get->add_option("--tee-key-file", tee_key_file, "PEM private key bound into that token");
  get->add_option("--tee-key-alg", tee_key_alg, "TEE key wrapping algorithm")
      ->check(CLI::IsMember(kAlgs));

  // config: admin API.
  auto* config = app.add_subcommand("config", "manage the KBS (admin API)");
  config->require_subcommand(1);
  std::string admin_token_file;
  config->add_option("--admin-token-file", admin_token_file, "file holding an admin JWT");
  auto* set_res = config->add_subcommand("set-resource", "store a secret");
  std::string resource_file;
  set_res->add_option("--path", res_path, "repository/type/tag")->required();
  set_res->add_option("--resource-file", resource_file, "file with the secret bytes")->required();
  auto* del_res = config->add_subcommand("delete-resource", "delete a secret");
  del_res->add_option("--path", res_path, "repository/type/tag")->required();
  auto* set_rp = config->add_subcommand("set-resource-policy", "replace the resource policy");
  std::string policy_file;
  bool allow_all = false, deny_all = false, affirming = false, default_policy = false;
  auto* pf = set_rp->add_option("--policy-file", policy_file, "Rego policy file");
  auto* aa = set_rp->add_flag("--allow-all", allow_all, "release to any attested TEE");
  auto* da = set_rp->add_flag("--deny-all", deny_all, "release nothing");
  auto* af = set_rp->add_flag("--affirming", affirming, "release when every submod is affirming");
  auto* df = set_rp->add_flag("--default", default_policy, "the KBS default policy");
  pf->excludes(aa, da, af, df);
  aa->excludes(da, af, df);
  da->excludes(af, df);
  af->excludes(df);
  auto* get_rp = config->add_subcommand("get-resource-policy", "list resource policy ids");
  auto* set_ap = config->add_subcommand("set-attestation-policy", "set an attestation policy");
  std::string policy_id = "default_cpu";
  set_ap->add_option("--id", policy_id, "policy id, <name>_<class> (e.g. default_cpu)");
  set_ap->add_option("--policy-file", policy_file, "Rego policy file")->required();
  set_ap->add_option("--type", "policy type (rego)")->check(CLI::IsMember({"rego"}));
  auto* get_ap = config->add_subcommand("get-attestation-policies", "list attestation policies");
  auto* set_rv = config->add_subcommand("set-sample-reference-value",
                                        "register a reference value for the sample TEE");
  std::string rv_name, rv_value;
  bool rv_json = false;
  set_rv->add_option("name", rv_name, "reference value id, e.g. svn")->required();
  set_rv->add_option("value", rv_value, "value (a string unless --json)")->required();
  set_rv->add_flag("--json", rv_json, "parse VALUE as JSON (a number, array, ...)");
  auto* get_rv = config->add_subcommand("get-reference-value", "print a reference value");
  std::string rv_id;
  get_rv->add_option("--id", rv_id, "reference value id")->required();

  // keygen / make-cert.
  auto* keygen = app.add_subcommand("keygen", "make an admin Ed25519 key pair and admin token");
  std::string out_dir = ".", role = "admin", issuer = "ccburst-admin", audience = "kbs";
  int valid_days = 30;
  keygen->add_option("--out-dir", out_dir, "where to write admin.key, admin.pub, admin.token")
      ->capture_default_str();
  keygen->add_option("--role", role, "`role` claim")->capture_default_str();
  keygen->add_option("--issuer", issuer, "`iss` claim")->capture_default_str();
  keygen->add_option("--audience", audience, "`aud` claim")->capture_default_str();
  keygen->add_option("--valid-days", valid_days, "token lifetime in days")->capture_default_str();
  std::string signing_key_file;
  keygen->add_option("--private-key", signing_key_file,
                     "mint only a token, signed with this existing admin key");
  auto* make_cert = app.add_subcommand(
      "make-cert", "make a self-signed TLS key and certificate for local HTTPS (kbs.key, kbs.crt)");
  std::vector<std::string> hosts{"127.0.0.1", "localhost"};
  make_cert->add_option("--out-dir", out_dir, "output directory")->capture_default_str();
  make_cert->add_option("--host", hosts, "DNS names / IPs for the certificate")
      ->capture_default_str();
  make_cert->add_option("--valid-days", valid_days, "validity in days")->capture_default_str();

  // policy eval.
  auto* policy = app.add_subcommand("policy", "Rego tools");
  policy->require_subcommand(1);
  auto* eval = policy->add_subcommand("eval", "evaluate a Rego query (like `opa eval`)");
  std::vector<std::string> policy_files;
  std::string input_file, data_file, query;
  eval->add_option("--policy", policy_files, "Rego module (repeatable)");
  eval->add_option("--input", input_file, "input JSON file");
  eval->add_option("--data", data_file, "data JSON file");
  eval->add_option("query", query, "query, e.g. data.policy.allow")->required();

  // verify.
  auto* verify = app.add_subcommand(
      "verify", "verify TDX or SNP evidence offline at a given time (exit 0 verified, 1 not)");
  std::string verify_tee, evidence_file, collateral_dir, certs_dir, trusted_root, at_text;
  bool verify_json = false;
  int required_vmpl = 0;
  verify->add_option("--tee", verify_tee, "tdx or snp")
      ->required()
      ->check(CLI::IsMember({"tdx", "snp"}));
  verify
      ->add_option("--evidence", evidence_file,
                   "raw quote/report or the evidence JSON the KBS receives")
      ->required();
  verify->add_option("--collateral", collateral_dir,
                     "tdx: DCAP collateral directory (tcb_info.json, qe_identity.json, CRLs, ...)");
  verify->add_option("--certs", certs_dir, "snp: directory of VCEK/VLEK/ASK/ARK (DER or PEM)");
  verify->add_option("--trusted-root", trusted_root,
                     "tdx: trust this root (PEM) instead of Intel's; for test hierarchies only");
  verify->add_option("--vmpl", required_vmpl, "snp: the VMPL the report must come from")
      ->capture_default_str()
      ->check(CLI::Range(0, 3));
  verify->add_option("--at", at_text, "verification time, RFC 3339 (default: now)");
  verify->add_flag("--json", verify_json,
                   "print {verified, tcb_status, advisory_ids, claims, error}");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help is fine; any other parse error is a usage error
  }

  if (*verify)
    return Verify(verify_tee, evidence_file, collateral_dir, certs_dir, trusted_root, at_text,
                  required_vmpl, verify_json);

  if (*attest) {
    auto client = Client(g, tee_key_alg, attest_key_file);
    if (!client.ok()) return Fail(client.status());
    std::optional<std::string> init_data;
    if (!init_data_file.empty()) {
      auto text = ReadFile(init_data_file);
      if (!text.ok()) return Fail(text.status());
      init_data = *text;
    }
    auto token = (*client)->Attest(init_data);
    if (!token.ok()) return Fail(token.status());
    std::cout << *token << "\n";
    return 0;
  }

  if (*get) {
    if (!token_file.empty() && tee_key_file.empty()) {
      return Fail(absl::InvalidArgumentError(
          "--attestation-token needs --tee-key-file (the key bound into that token)"));
    }
    auto client = Client(g, tee_key_alg, tee_key_file);
    if (!client.ok()) return Fail(client.status());
    if (!token_file.empty()) {
      auto token = ReadFile(token_file);
      if (!token.ok()) return Fail(token.status());
      (*client)->set_bearer_token(Trim(*token));
    }
    auto secret = (*client)->GetResource(res_path);
    if (!secret.ok()) return Fail(secret.status());
    if (!output.empty()) {
      auto s = WriteFile(output, *secret, true);
      if (!s.ok()) return Fail(s);
    } else {
      std::cout << *secret;
      std::cout.flush();
    }
    return 0;
  }

  if (*config) {
    std::string token;
    if (!admin_token_file.empty()) {
      auto t = ReadFile(admin_token_file);
      if (!t.ok()) return Fail(t.status());
      token = Trim(*t);
    }
    auto http = Http(g);
    if (!http.ok()) return Fail(http.status());
    agent::AdminClient admin(std::move(*http), token);
    absl::Status s;
    if (*set_res) {
      auto bytes = ReadFile(resource_file);
      if (!bytes.ok()) return Fail(bytes.status());
      s = admin.SetResource(res_path, *bytes);
    } else if (*del_res) {
      s = admin.DeleteResource(res_path);
    } else if (*set_rp) {
      std::string rego;
      if (allow_all) {
        rego = kbs::kAllowAllResourcePolicy;
      } else if (deny_all) {
        rego = kbs::kDenyAllResourcePolicy;
      } else if (affirming) {
        rego = kbs::kAffirmingResourcePolicy;
      } else if (default_policy) {
        rego = kbs::kDefaultResourcePolicy;
      } else if (!policy_file.empty()) {
        auto text = ReadFile(policy_file);
        if (!text.ok()) return Fail(text.status());
        rego = *text;
      } else {
        return Fail(absl::InvalidArgumentError(
            "set-resource-policy needs --policy-file, --allow-all, --deny-all, --affirming or "
            "--default"));
      }
      s = admin.SetResourcePolicy(rego);
    } else if (*get_rp) {
      auto r = admin.ListResourcePolicies();
      if (!r.ok()) return Fail(r.status());
      std::cout << *r << "\n";
    } else if (*set_ap) {
      auto text = ReadFile(policy_file);
      if (!text.ok()) return Fail(text.status());
      s = admin.SetAttestationPolicy(policy_id, *text);
    } else if (*get_ap) {
      auto r = admin.ListAttestationPolicies();
      if (!r.ok()) return Fail(r.status());
      std::cout << *r << "\n";
    } else if (*set_rv) {
      core::json::value v = core::json::string(rv_value);
      if (rv_json) {
        auto parsed = core::ParseJson(rv_value);
        if (!parsed.ok()) return Fail(parsed.status());
        v = *parsed;
      }
      s = admin.SetSampleReferenceValue(rv_name, v);
    } else if (*get_rv) {
      auto r = admin.GetReferenceValue(rv_id);
      if (!r.ok()) return Fail(r.status());
      std::cout << *r << "\n";
    }
    if (!s.ok()) return Fail(s);
    return 0;
  }

  if (*keygen) {
    std::filesystem::create_directories(out_dir);
    std::string dir = std::filesystem::path(out_dir).string();
    if (!signing_key_file.empty()) {
      auto pem = ReadFile(signing_key_file);
      if (!pem.ok()) return Fail(pem.status());
      auto token =
          agent::MakeAdminToken(*pem, issuer, audience, role, std::chrono::hours(24) * valid_days);
      if (!token.ok()) return Fail(token.status());
      if (auto s = WriteFile(dir + "/admin.token", *token + "\n", true); !s.ok()) return Fail(s);
      std::cout << "wrote " << dir << "/admin.token (role `" << role << "`)\n";
      return 0;
    }
    crypto::PrivateKey key = crypto::PrivateKey::GenerateEd25519();
    auto token = agent::MakeAdminToken(key.ToPem(), issuer, audience, role,
                                       std::chrono::hours(24) * valid_days);
    if (!token.ok()) return Fail(token.status());
    for (auto s : {WriteFile(dir + "/admin.key", key.ToPem(), true),
                   WriteFile(dir + "/admin.pub", key.Public().ToPem()),
                   WriteFile(dir + "/admin.token", *token + "\n", true)}) {
      if (!s.ok()) return Fail(s);
    }
    std::cout << "wrote " << dir << "/admin.key (keep secret), " << dir << "/admin.pub (for "
              << "[admin.authentication.bearer_jwt] public_key_uri), " << dir
              << "/admin.token (role `" << role << "`, issuer `" << issuer << "`, audience `"
              << audience << "`, valid " << valid_days << " days)\n";
    return 0;
  }

  if (*make_cert) {
    std::filesystem::create_directories(out_dir);
    crypto::PrivateKey key = crypto::PrivateKey::GenerateEcP256();
    auto now = core::SystemClock::Get().Now();
    auto cert = crypto::MakeSelfSignedCertificate(key, hosts.empty() ? "ccburst" : hosts[0], hosts,
                                                  now - std::chrono::minutes(5),
                                                  now + std::chrono::hours(24) * valid_days);
    if (!cert.ok()) return Fail(cert.status());
    std::string dir = std::filesystem::path(out_dir).string();
    for (auto s :
         {WriteFile(dir + "/kbs.key", key.ToPem(), true), WriteFile(dir + "/kbs.crt", *cert)}) {
      if (!s.ok()) return Fail(s);
    }
    std::cout << "wrote " << dir << "/kbs.key and " << dir
              << "/kbs.crt (self-signed; clients trust it with --cert-file)\n";
    return 0;
  }

  if (*eval) {
    std::optional<std::string> in, data;
    if (!input_file.empty()) in = input_file;
    if (!data_file.empty()) data = data_file;
    return policy::PolicyEvalMain(policy_files, in, data, query, std::cout, std::cerr);
  }
  return 0;
}
