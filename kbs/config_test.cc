#include "kbs/config.h"

#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace ccburst::kbs {
namespace {

using ::ccburst::core::testing::IsOk;
using ::ccburst::core::testing::StatusIs;
using ::testing::_;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;
using ::testing::StartsWith;

TEST(KbsConfig, TrusteeNamesAreAccepted) {
  auto c = ParseKbsConfig(R"(
[http_server]
sockets = ["127.0.0.1:8080", "[::1]:8081"]
insecure_http = true
payload_request_size = 4
worker_count = 3

[attestation_token]
insecure_header_jwk = false
trusted_jwk_sets = ["file:///etc/kbs/jwks.json"]

[attestation_service]
type = "coco_as_builtin"
timeout = 7

[attestation_service.attestation_token_broker]
duration_min = 9
issuer_name = "my-kbs"

[attestation_service.attestation_token_broker.signer]
key_path = "token.key"

[attestation_service.rvps_config]
type = "BuiltIn"

[admin]
authorization_mode = "AuthenticatedAuthorization"

[admin.authentication.bearer_jwt]
identity_providers = [ { issuer = "issuer", audience = "kbs", public_key_uri = "./admin.pub" } ]

[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+$" } ]

[storage_backend]
storage_type = "Sqlite"
[storage_backend.backends.sqlite]
path = "state/kbs.db"

[[plugins]]
name = "resource"
storage_backend_type = "kvstorage"
)",
                          "/etc/kbs");
  ASSERT_OK(c);
  EXPECT_EQ(c->http_server.sockets.size(), 2u);
  EXPECT_TRUE(c->http_server.insecure_http);
  EXPECT_EQ(c->http_server.payload_request_size_mib, 4u);
  EXPECT_EQ(c->http_server.worker_count, 3);
  EXPECT_EQ(c->attestation_token.trusted_jwk_sets[0], "/etc/kbs/jwks.json");
  EXPECT_EQ(c->attestation_service.session_timeout, std::chrono::minutes(7));
  EXPECT_EQ(c->attestation_service.token_duration, std::chrono::minutes(9));
  EXPECT_EQ(c->attestation_service.issuer_name, "my-kbs");
  EXPECT_EQ(*c->attestation_service.signer_key_path, "/etc/kbs/token.key");
  EXPECT_EQ(c->admin.mode, AdminMode::kAuthenticatedAuthorization);
  ASSERT_EQ(c->admin.identity_providers.size(), 1u);
  EXPECT_EQ(c->admin.identity_providers[0].public_key_uri, "/etc/kbs/admin.pub");
  EXPECT_EQ(c->admin.identity_providers[0].audience, "kbs");
  ASSERT_EQ(c->admin.acls.size(), 1u);
  EXPECT_EQ(c->admin.acls[0].allowed_endpoints, "^/kbs/.+$");
  EXPECT_EQ(c->storage.sqlite_path, "/etc/kbs/state/kbs.db");
  ASSERT_EQ(c->warnings.size(), 1u);  // insecure_http
}

TEST(KbsConfig, DefaultsAreSafe) {
  auto c = ParseKbsConfig(R"(
[http_server]
private_key = "k.pem"
certificate = "c.pem"
)",
                          "/d");
  ASSERT_OK(c);
  EXPECT_FALSE(c->http_server.insecure_http);
  EXPECT_EQ(c->http_server.sockets, std::vector<std::string>{"127.0.0.1:8080"});
  EXPECT_EQ(c->http_server.payload_request_size_mib, 2u);
  EXPECT_EQ(c->admin.mode, AdminMode::kDenyAll);
  EXPECT_EQ(c->storage.type, "Sqlite");
  EXPECT_EQ(c->storage.sqlite_path, "/d/kbs.db");
  EXPECT_EQ(c->attestation_service.session_timeout, std::chrono::minutes(5));
  EXPECT_TRUE(c->warnings.empty());
}

TEST(KbsConfig, AuditTrail) {
  auto off = ParseKbsConfig("[http_server]\ninsecure_http = true\n", "/d");
  ASSERT_OK(off);
  EXPECT_FALSE(off->audit.enabled);
  EXPECT_FALSE(off->audit.fail_open);
  EXPECT_EQ(off->audit.checkpoint_every, 100);
  EXPECT_EQ(off->audit.durability, KbsConfig::Audit::Durability::kCommit);
  EXPECT_EQ(off->audit.sync_interval_ms, 100);
  auto on = ParseKbsConfig(
      "[http_server]\ninsecure_http = true\n[audit]\nenabled = true\ncheckpoint_every = 10\n"
      "signing_key = \"audit.key\"\nfail_open = true\ndurability = \"flush\"\n"
      "sync_interval_ms = 250\n",
      "/d");
  ASSERT_OK(on);
  EXPECT_TRUE(on->audit.enabled);
  EXPECT_EQ(on->audit.checkpoint_every, 10);
  EXPECT_EQ(on->audit.signing_key, "/d/audit.key");
  EXPECT_TRUE(on->audit.fail_open);
  EXPECT_EQ(on->audit.durability, KbsConfig::Audit::Durability::kFlush);
  EXPECT_EQ(on->audit.sync_interval_ms, 250);
  EXPECT_THAT(
      ParseKbsConfig("[http_server]\ninsecure_http = true\n[audit]\ndurability = \"fsync\"\n",
                     "/d"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("`audit.durability` is `fsync`")));
  EXPECT_THAT(
      ParseKbsConfig("[http_server]\ninsecure_http = true\n[audit]\nsync_interval_ms = 5\n", "/d"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("audit.sync_interval_ms")));
  EXPECT_THAT(on->warnings, Contains(HasSubstr("audit.fail_open = true")));
  EXPECT_THAT(
      ParseKbsConfig("[http_server]\ninsecure_http = true\n[audit]\nenabled = true\n", "/d"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs `audit.signing_key`")));
  EXPECT_THAT(
      ParseKbsConfig("[http_server]\ninsecure_http = true\n[audit]\ncheckpoint_every = 0\n", "/d"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("audit.checkpoint_every")));
}

TEST(KbsConfig, PostgresBackendKeys) {
  auto c = ParseKbsConfig(
      "[http_server]\ninsecure_http = true\n[storage_backend]\nstorage_type = \"Postgres\"\n"
      "[storage_backend.backends.postgres]\nhost = \"db\"\npool_size = 4\n"
      "confirm_share_wait_us = 0\n[storage_backend.encryption]\nkey_env = \"KEK\"\n"
      "[attestation_service.attestation_token_broker.signer]\nkey_path = \"t.key\"\n",
      "/d");
  ASSERT_OK(c);
  EXPECT_EQ(c->storage.postgres.host, "db");
  EXPECT_EQ(c->storage.postgres.pool_size, 4u);
  EXPECT_EQ(c->storage.postgres.confirm_share_wait, std::chrono::microseconds(0));
  auto d = ParseKbsConfig(
      "[http_server]\ninsecure_http = true\n[storage_backend]\nstorage_type = \"Postgres\"\n"
      "[storage_backend.encryption]\nkey_env = \"KEK\"\n"
      "[attestation_service.attestation_token_broker.signer]\nkey_path = \"t.key\"\n",
      "/d");
  ASSERT_OK(d);
  EXPECT_EQ(d->storage.postgres.confirm_share_wait, std::chrono::microseconds(2000));
  EXPECT_THAT(ParseKbsConfig("[http_server]\ninsecure_http = true\n[storage_backend]\n"
                             "storage_type = \"Postgres\"\n[storage_backend.backends.postgres]\n"
                             "confirm_share_wait_us = -1\n",
                             "/d"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("confirm_share_wait_us")));
}

TEST(KbsConfig, HttpsWithoutKeyIsAnError) {
  auto c = ParseKbsConfig("", "/d");
  ASSERT_THAT(c, Not(IsOk()));
  EXPECT_NE(c.status().message().find("private_key"), absl::string_view::npos);
}

TEST(KbsConfig, UnknownKeysAreNamed) {
  struct Case {
    const char* toml;
    const char* key;
  } cases[] = {
      {"[http_server]\ninsecure_http = true\nsocket = [\"a\"]\n", "`http_server.socket`"},
      {"[http_server]\ninsecure_http = true\n[bogus]\n", "`bogus`"},
      {"[http_server]\ninsecure_http = true\n[admin]\nauthorisation_mode = \"DenyAll\"\n",
       "`admin.authorisation_mode`"},
      {"[http_server]\ninsecure_http = true\n[attestation_service.attestation_token_broker]\n"
       "duration = 3\n",
       "`attestation_service.attestation_token_broker.duration`"},
  };
  for (const auto& tc : cases) {
    auto c = ParseKbsConfig(tc.toml, "/d");
    ASSERT_THAT(c, Not(IsOk())) << tc.toml;
    EXPECT_NE(std::string(c.status().message()).find(tc.key), std::string::npos)
        << c.status().message();
  }
}

TEST(KbsConfig, BadValuesAreNamed) {
  auto wrong_type = ParseKbsConfig("[http_server]\ninsecure_http = \"yes\"\n", "/d");
  ASSERT_THAT(wrong_type, StatusIs(_, "config: `http_server.insecure_http` must be a boolean"));
  auto mode = ParseKbsConfig(
      "[http_server]\ninsecure_http = true\n[admin]\nauthorization_mode = \"Open\"\n", "/d");
  ASSERT_THAT(mode, Not(IsOk()));
  auto acl = ParseKbsConfig(R"([http_server]
insecure_http = true
[admin]
authorization_mode = "AuthenticatedAuthorization"
[admin.authentication.bearer_jwt]
identity_providers = [ { public_key_uri = "a.pub" } ]
[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = ".*" } ]
)",
                            "/d");
  ASSERT_THAT(acl, Not(IsOk()));
  EXPECT_NE(std::string(acl.status().message()).find("must start with `^/kbs`"), std::string::npos);
  auto syntax = ParseKbsConfig("[http_server\n", "/d");
  ASSERT_THAT(syntax, Not(IsOk()));
  EXPECT_NE(std::string(syntax.status().message()).find("line 1"), std::string::npos);
}

// Trustee's TLS keys (kbs/docs/config.md "TLS Configuration"), flattened into [http_server] as
// the reference reads them, or in an [http_server.tls] table.
TEST(KbsConfig, ReferenceTlsKeysAreAccepted) {
  auto flat = ParseKbsConfig(R"([http_server]
private_key = "k.pem"
certificate = "c.pem"
tls_profile = "custom"
tls_min_version = "1.3"
tls_max_version = "1.3"
tls_ciphers = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
tls_groups = "X25519:secp256r1"
)",
                             "/d");
  ASSERT_OK(flat);
  EXPECT_EQ(flat->http_server.tls_profile, "custom");
  EXPECT_EQ(flat->http_server.tls.min_version, "1.3");
  EXPECT_EQ(flat->http_server.tls.max_version, "1.3");
  EXPECT_EQ(flat->http_server.tls.ciphers, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ(flat->http_server.tls.groups, "X25519:secp256r1");

  auto table = ParseKbsConfig(R"([http_server]
sockets = ["0.0.0.0:8080"]
[http_server.tls]
private_key = "/etc/kbs/https.key"
certificate = "/etc/kbs/https.crt"
tls_profile = "modern"
)",
                              "/d");
  ASSERT_OK(table);
  EXPECT_EQ(table->http_server.private_key, "/etc/kbs/https.key");
  EXPECT_EQ(table->http_server.certificate, "/etc/kbs/https.crt");
  EXPECT_EQ(table->http_server.tls.min_version, "1.3");  // modern: TLS 1.3 only
  EXPECT_EQ(table->http_server.tls.max_version, "1.3");
  EXPECT_FALSE(table->http_server.tls.groups);  // auto (post-quantum first where known)

  auto defaults = ParseKbsConfig("[http_server]\ninsecure_http = true\n", "/d");
  ASSERT_OK(defaults);
  EXPECT_EQ(defaults->http_server.tls_profile, "intermediate");
  EXPECT_EQ(defaults->http_server.tls.min_version, "1.2");
  EXPECT_EQ(defaults->http_server.tls.max_version, "1.3");
  EXPECT_THAT(defaults->http_server.tls.ciphers,
              Optional(StartsWith("ECDHE-ECDSA-AES128-GCM-SHA256:")));
}

TEST(KbsConfig, BadTlsKeysAreNamed) {
  struct Case {
    const char* toml;
    const char* error;
  } cases[] = {
      {"tls_profile = \"paranoid\"\n",
       "`http_server.tls_profile` must be one of old, intermediate, modern, custom"},
      {"tls_min_version = \"1.1\"\n", "`http_server.tls_min_version` must be \"1.2\" or \"1.3\""},
      {"tls_min_version = \"1.3\"\ntls_max_version = \"1.2\"\n",
       "min_version (1.3) cannot be greater than max_version (1.2)"},
      {"tls_ciphers = \"RC4-NOPE\"\n", "tls: ciphers: no TLS 1.2 cipher in `RC4-NOPE`"},
      {"tls_groups = \"X25519:nonsense\"\n", "tls: groups: unknown group"},
      {"tls_profile = \"modern\"\n[http_server.tls]\ntls_profile = \"old\"\n",
       "`tls_profile` is given both in [http_server] and in [http_server.tls]"},
      {"[http_server.tls]\nprofile = \"modern\"\n", "unknown key `http_server.tls.profile`"},
      {"tls_max_version = 1.3\n", "`http_server.tls_max_version` must be a string"},
  };
  for (const auto& tc : cases) {
    auto c = ParseKbsConfig(std::string("[http_server]\ninsecure_http = true\n") + tc.toml, "/d");
    EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(tc.error))) << tc.toml;
  }
}

TEST(KbsConfig, InsecureSettingsProduceWarnings) {
  auto c = ParseKbsConfig(R"([http_server]
insecure_http = true
[admin]
authorization_mode = "InsecureAllowAll"
[storage_backend]
storage_type = "Memory"
)",
                          "/d");
  ASSERT_OK(c);
  EXPECT_EQ(c->warnings.size(), 3u);
}

TEST(KbsConfig, VerifierDefaults) {
  auto c = ParseKbsConfig("[http_server]\ninsecure_http = true\n", "/d");
  ASSERT_OK(c);
  const auto& d = c->attestation_service.verifier_config.dcap_verifier;
  EXPECT_EQ(d.collateral_service, "https://api.trustedservices.intel.com/sgx/certification/v4/");
  EXPECT_FALSE(d.collateral_dir);
  EXPECT_FALSE(d.cache_dir);
  EXPECT_FALSE(d.trusted_root_ca);
  const auto& s = c->attestation_service.verifier_config.snp_verifier;
  ASSERT_EQ(s.vcek_sources.size(), 1u);
  EXPECT_EQ(s.vcek_sources[0].type, "KDS");
  EXPECT_EQ(s.vcek_sources[0].base_url, "https://kdsintf.amd.com");
  EXPECT_EQ(s.required_vmpl, 0u);
  EXPECT_FALSE(s.trusted_ark);
  EXPECT_FALSE(s.cache_dir);
}

TEST(KbsConfig, VerifierConfigTrusteeNamesAndExtras) {
  auto c = ParseKbsConfig(R"([http_server]
insecure_http = true

[attestation_service.verifier_config.dcap_verifier]
collateral_service = "https://pccs.example:8081/sgx/certification/v4/"
tcb_update_type = "early"
cache_dir = "cache/tdx"

[attestation_service.verifier_config.snp_verifier]
vcek_sources = [ { type = "OfflineStore", path = "kds-store" },
                 { type = "KDS", base_url = "https://kds.example" },
                 { type = "OfflineStore" } ]
required_vmpl = 2
cache_dir = "/var/cache/vcek"
)",
                          "/d");
  ASSERT_OK(c);
  const auto& d = c->attestation_service.verifier_config.dcap_verifier;
  EXPECT_EQ(d.collateral_service, "https://pccs.example:8081/sgx/certification/v4/");
  EXPECT_FALSE(d.collateral_dir);
  EXPECT_EQ(d.tcb_update_type, "early");
  EXPECT_EQ(d.cache_dir, "/d/cache/tdx");
  const auto& s = c->attestation_service.verifier_config.snp_verifier;
  ASSERT_EQ(s.vcek_sources.size(), 3u);
  EXPECT_EQ(s.vcek_sources[0].type, "OfflineStore");
  EXPECT_EQ(s.vcek_sources[0].path, "/d/kds-store");
  EXPECT_EQ(s.vcek_sources[1].type, "KDS");
  EXPECT_EQ(s.vcek_sources[1].base_url, "https://kds.example");
  EXPECT_EQ(s.vcek_sources[2].path, "/opt/confidential-containers/attestation-service/kds-store");
  EXPECT_EQ(s.required_vmpl, 2u);
  EXPECT_EQ(s.cache_dir, "/var/cache/vcek");
  EXPECT_EQ(c->warnings.size(), 1u);  // insecure_http only
}

TEST(KbsConfig, OfflineCollateralAndTestRootsWarn) {
  auto c = ParseKbsConfig(R"([http_server]
insecure_http = true
[attestation_service.verifier_config.dcap_verifier]
collateral_service = "file:///srv/collateral"
trusted_root_ca = "test-root.pem"
[attestation_service.verifier_config.snp_verifier]
trusted_ark = "file://ark.pem"
)",
                          "/d");
  ASSERT_OK(c);
  EXPECT_EQ(c->attestation_service.verifier_config.dcap_verifier.collateral_dir, "/srv/collateral");
  EXPECT_EQ(c->attestation_service.verifier_config.dcap_verifier.trusted_root_ca,
            "/d/test-root.pem");
  EXPECT_EQ(c->attestation_service.verifier_config.snp_verifier.trusted_ark, "/d/ark.pem");
  ASSERT_EQ(c->warnings.size(), 3u);
  EXPECT_NE(c->warnings[0].find("dcap_verifier.trusted_root_ca"), std::string::npos);
  EXPECT_NE(c->warnings[1].find("snp_verifier.trusted_ark"), std::string::npos);
}

TEST(KbsConfig, VerifierConfigErrorsNameTheKey) {
  constexpr std::string_view kHead = "[http_server]\ninsecure_http = true\n";
  struct Case {
    std::string toml;
    std::string message;
  } cases[] = {
      {"[attestation_service.verifier_config.tpm_verifier]\n",
       "config: unknown key `attestation_service.verifier_config.tpm_verifier`"},
      {"[attestation_service.verifier_config.dcap_verifier]\nurl = \"x\"\n",
       "config: unknown key `attestation_service.verifier_config.dcap_verifier.url`"},
      {"[attestation_service.verifier_config.dcap_verifier]\ncollateral_service = "
       "\"http://pccs\"\n",
       "config: `attestation_service.verifier_config.dcap_verifier.collateral_service` = "
       "`http://pccs` is neither an https:// PCS/PCCS URL nor a file:// collateral directory"},
      {"[attestation_service.verifier_config.dcap_verifier]\ntcb_update_type = \"late\"\n",
       "config: `attestation_service.verifier_config.dcap_verifier.tcb_update_type` = `late` is "
       "not `early` or `standard`"},
      {"[attestation_service.verifier_config.dcap_verifier]\ncache_dir = 3\n",
       "config: `attestation_service.verifier_config.dcap_verifier.cache_dir` must be a string"},
      {"[attestation_service.verifier_config.snp_verifier]\nvcek_sources = [{type = \"Kds\"}]\n",
       "config: `attestation_service.verifier_config.snp_verifier.vcek_sources[0].type` = `Kds` "
       "is not `KDS` or `OfflineStore`"},
      {"[attestation_service.verifier_config.snp_verifier]\nvcek_sources = [{type = \"KDS\"}, "
       "{type = \"KDS\", path = \"/x\"}]\n",
       "config: unknown key "
       "`attestation_service.verifier_config.snp_verifier.vcek_sources[1].path`"},
      {"[attestation_service.verifier_config.snp_verifier]\nvcek_sources = [{base_url = \"x\"}]\n",
       "config: `attestation_service.verifier_config.snp_verifier.vcek_sources[0].type` is "
       "required"},
      {"[attestation_service.verifier_config.snp_verifier]\nvcek_sources = \"KDS\"\n",
       "config: `attestation_service.verifier_config.snp_verifier.vcek_sources` must be an array "
       "of tables"},
      {"[attestation_service.verifier_config.snp_verifier]\nrequired_vmpl = 4\n",
       "config: `attestation_service.verifier_config.snp_verifier.required_vmpl` = 4 is outside "
       "0..3"},
      {"[attestation_service.verifier_config.snp_verifier]\nvmpl = 1\n",
       "config: unknown key `attestation_service.verifier_config.snp_verifier.vmpl`"},
  };
  for (const auto& tc : cases) {
    auto c = ParseKbsConfig(std::string(kHead) + tc.toml, "/d");
    ASSERT_THAT(c, StatusIs(_, tc.message)) << tc.toml;
  }
}

}  // namespace
}  // namespace ccburst::kbs
