#include "kbs/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/file.h"
#include "core/toml_config.h"

namespace ccburst::kbs {
namespace {

using core::config::CheckKeys;
using core::config::GetBool;
using core::config::GetInt;
using core::config::GetOptString;
using core::config::GetString;
using core::config::GetStringArray;
using core::config::ResolvePath;
using core::config::SubTable;
using core::config::TypeError;

// Mozilla's "intermediate" TLS 1.2 ciphers (the v5.x list that Trustee's KBS takes from
// rust-openssl's SslAcceptor::mozilla_intermediate_v5, https://wiki.mozilla.org/Security/
// Server_Side_TLS); TLS 1.3 suites keep OpenSSL's defaults, which are Mozilla's.
constexpr std::string_view kIntermediateTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

constexpr std::string_view kTlsKeys[] = {"tls_profile", "tls_min_version", "tls_max_version",
                                         "tls_ciphers", "tls_groups"};

// The TLS keys of [http_server] (`http`) and [http_server.tls] (`tls`, may be null), resolved as
// the reference KBS resolves them (kbs/src/http.rs): the profile sets the versions (old and
// intermediate: TLS 1.2 and 1.3, modern: 1.3 only), then any explicit tls_* key overrides it.
absl::Status ParseTls(const toml::table& http, const toml::table* tls_table,
                      KbsConfig::HttpServer& h) {
  auto get = [&](std::string_view key, std::optional<std::string>& out) {
    if (tls_table && tls_table->contains(key)) {
      return GetOptString(*tls_table, "http_server.tls", key, out);
    }
    return GetOptString(http, "http_server", key, out);
  };
  std::optional<std::string> profile, min, max, ciphers, groups;
  CCB_RETURN_IF_ERROR(get("tls_profile", profile));
  CCB_RETURN_IF_ERROR(get("tls_min_version", min));
  CCB_RETURN_IF_ERROR(get("tls_max_version", max));
  CCB_RETURN_IF_ERROR(get("tls_ciphers", ciphers));
  CCB_RETURN_IF_ERROR(get("tls_groups", groups));
  if (profile) h.tls_profile = *profile;
  net::TlsOptions& tls = h.tls;
  tls.ciphers = std::string(kIntermediateTls12Ciphers);  // every profile starts from it
  if (h.tls_profile == "modern") {
    tls.min_version = "1.3";
  } else if (h.tls_profile != "old" && h.tls_profile != "intermediate" &&
             h.tls_profile != "custom") {
    return absl::InvalidArgumentError(fmt::format(
        "config: `http_server.tls_profile` must be one of old, intermediate, modern, custom (got "
        "`{}`)",
        h.tls_profile));
  }
  if (min) tls.min_version = *min;
  if (max) tls.max_version = *max;
  if (ciphers) tls.ciphers = *ciphers;
  if (groups) tls.groups = *groups;
  for (const auto& [key, value] : {std::pair{"tls_min_version", min}, {"tls_max_version", max}}) {
    if (value && *value != "1.2" && *value != "1.3") {
      return absl::InvalidArgumentError(
          fmt::format("config: `http_server.{}` must be \"1.2\" or \"1.3\"", key));
    }
  }
  if (absl::Status s = net::ValidateTlsOptions(tls); !s.ok()) {
    return absl::InvalidArgumentError(fmt::format("config: `http_server`: {}", core::Message(s)));
  }
  return absl::OkStatus();
}

absl::Status ParseHttp(const toml::table& t, const std::string& base, KbsConfig& c) {
  constexpr std::string_view w = "http_server";
  core::config::Keys keys = {
      "sockets",      "insecure_http",   "private_key", "certificate", "payload_request_size",
      "worker_count", "max_connections", "tls"};
  keys.insert(std::begin(kTlsKeys), std::end(kTlsKeys));
  CCB_RETURN_IF_ERROR(CheckKeys(t, w, keys));
  auto& h = c.http_server;
  CCB_RETURN_IF_ERROR(GetStringArray(t, w, "sockets", h.sockets));
  if (h.sockets.empty()) {
    return absl::InvalidArgumentError("config: `http_server.sockets` must not be empty");
  }
  CCB_RETURN_IF_ERROR(GetBool(t, w, "insecure_http", h.insecure_http));
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "private_key", h.private_key));
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "certificate", h.certificate));
  // [http_server.tls]: the same TLS keys (and the key pair) as a sub-table; a key given in both
  // places is an error rather than a silent choice.
  CCB_ASSIGN_OR_RETURN(const toml::table* tls, SubTable(t, w, "tls"));
  if (tls) {
    constexpr std::string_view tls_where = "http_server.tls";
    core::config::Keys tls_keys = {"private_key", "certificate"};
    tls_keys.insert(std::begin(kTlsKeys), std::end(kTlsKeys));
    CCB_RETURN_IF_ERROR(CheckKeys(*tls, tls_where, tls_keys));
    for (std::string_view key : tls_keys) {
      if (tls->contains(key) && t.contains(key)) {
        return absl::InvalidArgumentError(fmt::format(
            "config: `{}` is given both in [http_server] and in [http_server.tls]", key));
      }
    }
    CCB_RETURN_IF_ERROR(GetOptString(*tls, tls_where, "private_key", h.private_key));
    CCB_RETURN_IF_ERROR(GetOptString(*tls, tls_where, "certificate", h.certificate));
  }
  CCB_RETURN_IF_ERROR(ParseTls(t, tls, h));
  if (h.private_key) h.private_key = ResolvePath(base, *h.private_key);
  if (h.certificate) h.certificate = ResolvePath(base, *h.certificate);
  int64_t size = static_cast<int64_t>(h.payload_request_size_mib);
  CCB_RETURN_IF_ERROR(GetInt(t, w, "payload_request_size", 1, 1024, size));
  h.payload_request_size_mib = static_cast<uint64_t>(size);
  int64_t workers = h.worker_count;
  CCB_RETURN_IF_ERROR(GetInt(t, w, "worker_count", 0, 256, workers));
  h.worker_count = static_cast<int>(workers);
  CCB_RETURN_IF_ERROR(GetInt(t, w, "max_connections", 0, 1'000'000, h.max_connections));
  return absl::OkStatus();
}

absl::Status ParseToken(const toml::table& t, const std::string& base, KbsConfig& c) {
  constexpr std::string_view w = "attestation_token";
  CCB_RETURN_IF_ERROR(
      CheckKeys(t, w, {"trusted_jwk_sets", "insecure_header_jwk", "extra_teekey_paths"}));
  auto& a = c.attestation_token;
  CCB_RETURN_IF_ERROR(GetStringArray(t, w, "trusted_jwk_sets", a.trusted_jwk_sets));
  for (auto& p : a.trusted_jwk_sets) {
    if (p.rfind("https://", 0) == 0 || p.rfind("http://", 0) == 0) {
      return absl::InvalidArgumentError(fmt::format(
          "config: `attestation_token.trusted_jwk_sets` entry `{}`: only local files are "
          "supported",
          p));
    }
    p = ResolvePath(base, p);
  }
  CCB_RETURN_IF_ERROR(GetBool(t, w, "insecure_header_jwk", a.insecure_header_jwk));
  CCB_RETURN_IF_ERROR(GetStringArray(t, w, "extra_teekey_paths", a.extra_teekey_paths));
  for (const auto& p : a.extra_teekey_paths) {
    if (p.empty() || p[0] != '/') {
      return absl::InvalidArgumentError(fmt::format(
          "config: `attestation_token.extra_teekey_paths` entry `{}` is not a JSON pointer", p));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseAttestationService(const toml::table& t, const std::string& base, KbsConfig& c) {
  constexpr std::string_view w = "attestation_service";
  CCB_RETURN_IF_ERROR(CheckKeys(
      t, w, {"type", "timeout", "attestation_token_broker", "rvps_config", "verifier_config"}));
  auto& a = c.attestation_service;
  std::string type = "coco_as_builtin";
  CCB_RETURN_IF_ERROR(GetString(t, w, "type", type));
  if (type != "coco_as_builtin") {
    return absl::InvalidArgumentError(fmt::format(
        "config: `attestation_service.type` = `{}` is not supported (only `coco_as_builtin`: "
        "ccburst-kbs has its attestation service built in)",
        type));
  }
  int64_t timeout = a.session_timeout.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "timeout", 1, 24 * 60, timeout));
  a.session_timeout = std::chrono::minutes(timeout);

  CCB_ASSIGN_OR_RETURN(const toml::table* rvps, SubTable(t, w, "rvps_config"));
  if (rvps) {
    CCB_RETURN_IF_ERROR(CheckKeys(*rvps, "attestation_service.rvps_config", {"type"}));
    std::string rtype = "BuiltIn";
    CCB_RETURN_IF_ERROR(GetString(*rvps, "attestation_service.rvps_config", "type", rtype));
    if (rtype != "BuiltIn") {
      return absl::InvalidArgumentError(fmt::format(
          "config: `attestation_service.rvps_config.type` = `{}` is not supported (only "
          "`BuiltIn`)",
          rtype));
    }
  }

  CCB_ASSIGN_OR_RETURN(const toml::table* verifiers, SubTable(t, w, "verifier_config"));
  if (verifiers) {
    CCB_RETURN_IF_ERROR(attestation::ParseVerifierConfig(
        *verifiers, "attestation_service.verifier_config", base, a.verifier_config, c.warnings));
  }

  CCB_ASSIGN_OR_RETURN(const toml::table* broker, SubTable(t, w, "attestation_token_broker"));
  if (broker) {
    constexpr std::string_view bw = "attestation_service.attestation_token_broker";
    CCB_RETURN_IF_ERROR(CheckKeys(
        *broker, bw,
        {"type", "duration_min", "issuer_name", "developer_name", "build_name", "signer"}));
    std::string btype = "Ear";
    CCB_RETURN_IF_ERROR(GetString(*broker, bw, "type", btype));
    if (btype != "Ear" && btype != "ear") {
      return absl::InvalidArgumentError(
          fmt::format("config: `{}.type` = `{}` is not supported (only `Ear`)", bw, btype));
    }
    int64_t duration = a.token_duration.count();
    CCB_RETURN_IF_ERROR(GetInt(*broker, bw, "duration_min", 1, 7 * 24 * 60, duration));
    a.token_duration = std::chrono::minutes(duration);
    CCB_RETURN_IF_ERROR(GetString(*broker, bw, "issuer_name", a.issuer_name));
    CCB_RETURN_IF_ERROR(GetString(*broker, bw, "developer_name", a.developer_name));
    CCB_RETURN_IF_ERROR(GetString(*broker, bw, "build_name", a.build_name));
    CCB_ASSIGN_OR_RETURN(const toml::table* signer, SubTable(*broker, bw, "signer"));
    if (signer) {
      std::string sw = std::string(bw) + ".signer";
      CCB_RETURN_IF_ERROR(CheckKeys(*signer, sw, {"key_path"}));
      std::string key_path;
      CCB_RETURN_IF_ERROR(GetString(*signer, sw, "key_path", key_path));
      if (key_path.empty()) {
        return absl::InvalidArgumentError(fmt::format("config: `{}.key_path` is required", sw));
      }
      a.signer_key_path = ResolvePath(base, key_path);
    }
  }
  return absl::OkStatus();
}

absl::Status ParseAdmin(const toml::table& t, const std::string& base, KbsConfig& c) {
  constexpr std::string_view w = "admin";
  CCB_RETURN_IF_ERROR(CheckKeys(t, w, {"authorization_mode", "authentication", "authorization"}));
  auto& a = c.admin;
  std::string mode = "DenyAll";
  CCB_RETURN_IF_ERROR(GetString(t, w, "authorization_mode", mode));
  if (mode == "DenyAll") {
    a.mode = AdminMode::kDenyAll;
  } else if (mode == "InsecureAllowAll") {
    a.mode = AdminMode::kInsecureAllowAll;
  } else if (mode == "AuthenticatedAuthorization") {
    a.mode = AdminMode::kAuthenticatedAuthorization;
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "config: `admin.authorization_mode` = `{}` is not one of DenyAll, InsecureAllowAll, "
        "AuthenticatedAuthorization",
        mode));
  }

  CCB_ASSIGN_OR_RETURN(const toml::table* authn, SubTable(t, w, "authentication"));
  if (authn) {
    CCB_RETURN_IF_ERROR(CheckKeys(*authn, "admin.authentication", {"bearer_jwt"}));
    CCB_ASSIGN_OR_RETURN(const toml::table* bearer,
                         SubTable(*authn, "admin.authentication", "bearer_jwt"));
    if (bearer) {
      constexpr std::string_view bw = "admin.authentication.bearer_jwt";
      CCB_RETURN_IF_ERROR(CheckKeys(*bearer, bw, {"identity_providers"}));
      if (const toml::node* n = bearer->get("identity_providers")) {
        if (!n->is_array()) return TypeError(bw, "identity_providers", "an array of tables");
        size_t i = 0;
        for (const auto& e : *n->as_array()) {
          std::string iw = fmt::format("{}.identity_providers[{}]", bw, i++);
          if (!e.is_table())
            return absl::InvalidArgumentError("config: `" + iw + "` must be a table");
          const auto& it = *e.as_table();
          CCB_RETURN_IF_ERROR(CheckKeys(it, iw, {"issuer", "audience", "public_key_uri"}));
          IdentityProvider p;
          CCB_RETURN_IF_ERROR(GetString(it, iw, "issuer", p.issuer));
          CCB_RETURN_IF_ERROR(GetString(it, iw, "audience", p.audience));
          CCB_RETURN_IF_ERROR(GetString(it, iw, "public_key_uri", p.public_key_uri));
          if (p.public_key_uri.empty()) {
            return absl::InvalidArgumentError("config: `" + iw + ".public_key_uri` is required");
          }
          if (p.public_key_uri.rfind("https://", 0) == 0) {
            return absl::InvalidArgumentError("config: `" + iw +
                                              ".public_key_uri`: only local files are supported");
          }
          p.public_key_uri = ResolvePath(base, p.public_key_uri);
          a.identity_providers.push_back(std::move(p));
        }
      }
    }
  }

  CCB_ASSIGN_OR_RETURN(const toml::table* authz, SubTable(t, w, "authorization"));
  if (authz) {
    CCB_RETURN_IF_ERROR(CheckKeys(*authz, "admin.authorization", {"regex_acl"}));
    CCB_ASSIGN_OR_RETURN(const toml::table* acl,
                         SubTable(*authz, "admin.authorization", "regex_acl"));
    if (acl) {
      constexpr std::string_view aw = "admin.authorization.regex_acl";
      CCB_RETURN_IF_ERROR(CheckKeys(*acl, aw, {"acls"}));
      if (const toml::node* n = acl->get("acls")) {
        if (!n->is_array()) return TypeError(aw, "acls", "an array of tables");
        size_t i = 0;
        for (const auto& e : *n->as_array()) {
          std::string ew = fmt::format("{}.acls[{}]", aw, i++);
          if (!e.is_table())
            return absl::InvalidArgumentError("config: `" + ew + "` must be a table");
          const auto& et = *e.as_table();
          CCB_RETURN_IF_ERROR(CheckKeys(et, ew, {"role", "allowed_endpoints"}));
          AdminAcl entry;
          CCB_RETURN_IF_ERROR(GetString(et, ew, "role", entry.role));
          CCB_RETURN_IF_ERROR(GetString(et, ew, "allowed_endpoints", entry.allowed_endpoints));
          if (entry.role.empty()) {
            return absl::InvalidArgumentError("config: `" + ew + ".role` is required");
          }
          if (entry.allowed_endpoints.rfind("^/kbs", 0) != 0 || entry.allowed_endpoints.empty() ||
              entry.allowed_endpoints.back() != '$') {
            return absl::InvalidArgumentError("config: `" + ew +
                                              ".allowed_endpoints` must start with `^/kbs` and "
                                              "end with `$`");
          }
          a.acls.push_back(std::move(entry));
        }
      }
    }
  }
  if (a.mode == AdminMode::kAuthenticatedAuthorization && a.identity_providers.empty()) {
    return absl::InvalidArgumentError(
        "config: `admin.authorization_mode = \"AuthenticatedAuthorization\"` needs at least one "
        "`admin.authentication.bearer_jwt.identity_providers` entry");
  }
  return absl::OkStatus();
}

absl::Status ParsePostgres(const toml::table& t, const std::string& base,
                           store::PostgresOptions& p) {
  constexpr std::string_view w = "storage_backend.backends.postgres";
  CCB_RETURN_IF_ERROR(
      CheckKeys(t, w,
                {"db", "username", "password", "host", "port", "pool_size", "statement_timeout_ms",
                 "connect_timeout_s", "sslmode", "sslrootcert", "confirm_share_wait_us"}));
  CCB_RETURN_IF_ERROR(GetString(t, w, "db", p.db));
  CCB_RETURN_IF_ERROR(GetString(t, w, "username", p.username));
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "password", p.password));
  CCB_RETURN_IF_ERROR(GetString(t, w, "host", p.host));
  int64_t port = p.port;
  CCB_RETURN_IF_ERROR(GetInt(t, w, "port", 1, 65535, port));
  p.port = static_cast<uint16_t>(port);
  int64_t pool = static_cast<int64_t>(p.pool_size);
  CCB_RETURN_IF_ERROR(GetInt(t, w, "pool_size", 1, 256, pool));
  p.pool_size = static_cast<size_t>(pool);
  int64_t statement_ms = p.statement_timeout.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "statement_timeout_ms", 1, 600'000, statement_ms));
  p.statement_timeout = std::chrono::milliseconds(statement_ms);
  int64_t connect_s = p.connect_timeout.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "connect_timeout_s", 1, 600, connect_s));
  p.connect_timeout = std::chrono::seconds(connect_s);
  int64_t share_us = p.confirm_share_wait.count();
  CCB_RETURN_IF_ERROR(GetInt(t, w, "confirm_share_wait_us", 0, 100'000, share_us));
  p.confirm_share_wait = std::chrono::microseconds(share_us);
  CCB_RETURN_IF_ERROR(GetString(t, w, "sslmode", p.sslmode));
  static constexpr std::string_view kModes[] = {"disable", "allow",     "prefer",
                                                "require", "verify-ca", "verify-full"};
  if (std::find(std::begin(kModes), std::end(kModes), p.sslmode) == std::end(kModes)) {
    return absl::InvalidArgumentError(fmt::format(
        "config: `{}.sslmode` = `{}` is not one of disable, allow, prefer, require, verify-ca, "
        "verify-full",
        w, p.sslmode));
  }
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "sslrootcert", p.sslrootcert));
  if (p.sslrootcert) p.sslrootcert = ResolvePath(base, *p.sslrootcert);
  return absl::OkStatus();
}

absl::Status ParseStorage(const toml::table& t, const std::string& base, KbsConfig& c) {
  constexpr std::string_view w = "storage_backend";
  std::string type = c.storage.type;
  CCB_RETURN_IF_ERROR(GetString(t, w, "storage_type", type));
  if (type == "Sqlite" || type == "sqlite") {
    c.storage.type = "Sqlite";
  } else if (type == "Memory" || type == "memory") {
    c.storage.type = "Memory";
  } else if (type == "Postgres" || type == "postgres") {
    c.storage.type = "Postgres";
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "config: `storage_backend.storage_type` = `{}` is not supported (Sqlite, Postgres or "
        "Memory)",
        type));
  }
  CCB_RETURN_IF_ERROR(CheckKeys(t, w, {"storage_type", "backends", "encryption"}));
  CCB_ASSIGN_OR_RETURN(const toml::table* enc, SubTable(t, w, "encryption"));
  if (enc) {
    constexpr std::string_view ew = "storage_backend.encryption";
    CCB_RETURN_IF_ERROR(CheckKeys(*enc, ew, {"key_file", "key_env"}));
    CCB_RETURN_IF_ERROR(GetOptString(*enc, ew, "key_file", c.storage.kek_file));
    CCB_RETURN_IF_ERROR(GetOptString(*enc, ew, "key_env", c.storage.kek_env));
    if (c.storage.kek_file) c.storage.kek_file = ResolvePath(base, *c.storage.kek_file);
    if (c.storage.kek_file.has_value() == c.storage.kek_env.has_value()) {
      return absl::InvalidArgumentError(
          "config: `storage_backend.encryption` needs exactly one of `key_file` and `key_env`");
    }
  }
  CCB_ASSIGN_OR_RETURN(const toml::table* backends, SubTable(t, w, "backends"));
  if (backends) {
    CCB_RETURN_IF_ERROR(CheckKeys(*backends, "storage_backend.backends", {"sqlite", "postgres"}));
    CCB_ASSIGN_OR_RETURN(const toml::table* pg,
                         SubTable(*backends, "storage_backend.backends", "postgres"));
    if (pg) CCB_RETURN_IF_ERROR(ParsePostgres(*pg, base, c.storage.postgres));
    CCB_ASSIGN_OR_RETURN(const toml::table* sqlite,
                         SubTable(*backends, "storage_backend.backends", "sqlite"));
    if (sqlite) {
      constexpr std::string_view sw = "storage_backend.backends.sqlite";
      CCB_RETURN_IF_ERROR(CheckKeys(*sqlite, sw, {"path", "initialize"}));
      CCB_RETURN_IF_ERROR(GetBool(*sqlite, sw, "initialize", c.storage.sqlite_initialize));
      std::string path;
      CCB_RETURN_IF_ERROR(GetString(*sqlite, sw, "path", path));
      if (!path.empty()) c.storage.sqlite_path = ResolvePath(base, path);
    }
  }
  return absl::OkStatus();
}

absl::Status ParsePlugins(const toml::node& n) {
  if (!n.is_array())
    return absl::InvalidArgumentError("config: `plugins` must be an array of tables");
  size_t i = 0;
  for (const auto& e : *n.as_array()) {
    std::string pw = fmt::format("plugins[{}]", i++);
    if (!e.is_table()) return absl::InvalidArgumentError("config: `" + pw + "` must be a table");
    const auto& pt = *e.as_table();
    CCB_RETURN_IF_ERROR(CheckKeys(pt, pw, {"name", "storage_backend_type", "type"}));
    std::string name, backend = "kvstorage";
    CCB_RETURN_IF_ERROR(GetString(pt, pw, "name", name));
    CCB_RETURN_IF_ERROR(GetString(pt, pw, "storage_backend_type", backend));
    CCB_RETURN_IF_ERROR(GetString(pt, pw, "type", backend));
    if (name != "resource") {
      return absl::InvalidArgumentError(fmt::format(
          "config: `{}.name` = `{}` is not supported (only the `resource` plugin)", pw, name));
    }
    if (backend != "kvstorage" && backend != "KvStorage") {
      return absl::InvalidArgumentError(fmt::format(
          "config: `{}.storage_backend_type` = `{}` is not supported (only `kvstorage`)", pw,
          backend));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseAudit(const toml::table& t, const std::string& base, KbsConfig& c) {
  constexpr std::string_view w = "audit";
  CCB_RETURN_IF_ERROR(CheckKeys(t, w,
                                {"enabled", "checkpoint_every", "signing_key", "fail_open",
                                 "durability", "sync_interval_ms"}));
  auto& a = c.audit;
  CCB_RETURN_IF_ERROR(GetBool(t, w, "enabled", a.enabled));
  CCB_RETURN_IF_ERROR(GetBool(t, w, "fail_open", a.fail_open));
  CCB_RETURN_IF_ERROR(GetInt(t, w, "checkpoint_every", 1, 1'000'000, a.checkpoint_every));
  CCB_RETURN_IF_ERROR(GetInt(t, w, "sync_interval_ms", 10, 60'000, a.sync_interval_ms));
  std::string durability = "commit";
  CCB_RETURN_IF_ERROR(GetString(t, w, "durability", durability));
  if (durability == "commit") {
    a.durability = KbsConfig::Audit::Durability::kCommit;
  } else if (durability == "flush") {
    a.durability = KbsConfig::Audit::Durability::kFlush;
  } else {
    return absl::InvalidArgumentError(fmt::format(
        "config: `audit.durability` is `{}`; expected `commit` or `flush`", durability));
  }
  std::optional<std::string> key;
  CCB_RETURN_IF_ERROR(GetOptString(t, w, "signing_key", key));
  if (key) a.signing_key = ResolvePath(base, *key);
  if (a.enabled && !a.signing_key) {
    return absl::InvalidArgumentError(
        "config: `audit.enabled = true` needs `audit.signing_key` (a P-256 PEM private key; "
        "`ccburst keys generate-ec` or `openssl ecparam -name prime256v1 -genkey` makes one)");
  }
  if (a.enabled && a.fail_open) {
    c.warnings.push_back(
        "audit.fail_open = true: secrets are released even when the audit trail cannot record "
        "the release");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<KbsConfig> ParseKbsConfig(std::string_view toml_text, const std::string& base_dir) {
  CCB_ASSIGN_OR_RETURN(toml::table root, core::config::ParseToml(toml_text, "config"));
  KbsConfig c;
  CCB_RETURN_IF_ERROR(CheckKeys(root, "",
                                {"http_server", "attestation_token", "attestation_service", "admin",
                                 "storage_backend", "plugins", "policy_engine", "audit"}));
  CCB_ASSIGN_OR_RETURN(const toml::table* http, SubTable(root, "", "http_server"));
  if (http) CCB_RETURN_IF_ERROR(ParseHttp(*http, base_dir, c));
  CCB_ASSIGN_OR_RETURN(const toml::table* token, SubTable(root, "", "attestation_token"));
  if (token) CCB_RETURN_IF_ERROR(ParseToken(*token, base_dir, c));
  CCB_ASSIGN_OR_RETURN(const toml::table* as, SubTable(root, "", "attestation_service"));
  if (as) CCB_RETURN_IF_ERROR(ParseAttestationService(*as, base_dir, c));
  CCB_ASSIGN_OR_RETURN(const toml::table* admin, SubTable(root, "", "admin"));
  if (admin) CCB_RETURN_IF_ERROR(ParseAdmin(*admin, base_dir, c));
  CCB_ASSIGN_OR_RETURN(const toml::table* storage, SubTable(root, "", "storage_backend"));
  if (storage) CCB_RETURN_IF_ERROR(ParseStorage(*storage, base_dir, c));
  if (const toml::node* plugins = root.get("plugins")) CCB_RETURN_IF_ERROR(ParsePlugins(*plugins));
  CCB_ASSIGN_OR_RETURN(const toml::table* pe, SubTable(root, "", "policy_engine"));
  if (pe) {
    CCB_RETURN_IF_ERROR(CheckKeys(*pe, "policy_engine", {"policy_path"}));
    std::optional<std::string> p;
    CCB_RETURN_IF_ERROR(GetOptString(*pe, "policy_engine", "policy_path", p));
    if (p) c.resource_policy_path = ResolvePath(base_dir, *p);
  }

  CCB_ASSIGN_OR_RETURN(const toml::table* audit, SubTable(root, "", "audit"));
  if (audit) CCB_RETURN_IF_ERROR(ParseAudit(*audit, base_dir, c));

  if (c.storage.sqlite_path.empty()) c.storage.sqlite_path = ResolvePath(base_dir, "kbs.db");

  auto& h = c.http_server;
  if (h.insecure_http) {
    c.warnings.push_back(
        "http_server.insecure_http = true: the KBS serves plain HTTP; use it only on loopback or "
        "behind a TLS-terminating proxy");
    if (h.private_key || h.certificate) {
      c.warnings.push_back(
          "http_server.private_key/certificate are ignored because insecure_http = true");
    }
  } else if (!h.private_key || !h.certificate) {
    return absl::InvalidArgumentError(
        "config: HTTPS is the default and needs `http_server.private_key` and "
        "`http_server.certificate` (or set `insecure_http = true`; `ccburst make-cert` creates a "
        "self-signed pair for local use)");
  }
  if (c.admin.mode == AdminMode::kInsecureAllowAll) {
    c.warnings.push_back(
        "admin.authorization_mode = InsecureAllowAll: ANYONE who can reach the KBS can change "
        "secrets and policies");
  }
  if (c.attestation_token.insecure_header_jwk) {
    c.warnings.push_back(
        "attestation_token.insecure_header_jwk = true: bearer tokens are trusted on the key they "
        "carry in their own header");
  }
  if (c.storage.type == "Memory") {
    c.warnings.push_back("storage_backend.storage_type = Memory: nothing survives a restart");
  }
  if (c.storage.type == "Postgres") {
    // Environment as in the reference KBS (a Kubernetes Secret mounted as variables).
    if (const char* url = std::getenv("POSTGRES_URL"); url != nullptr && *url != '\0') {
      c.storage.postgres.url = url;
    }
    if (const char* pw = std::getenv("POSTGRES_PASSWORD");
        pw != nullptr && *pw != '\0' && !c.storage.postgres.password) {
      c.storage.postgres.password = pw;
    }
    if (!c.storage.kek_file && !c.storage.kek_env) {
      return absl::InvalidArgumentError(
          "config: storage_type = Postgres needs `[storage_backend.encryption]` (`key_file` or "
          "`key_env`): secrets in a shared database are stored encrypted");
    }
    if (!c.attestation_service.signer_key_path) {
      return absl::InvalidArgumentError(
          "config: storage_type = Postgres (replicas) needs "
          "`[attestation_service.attestation_token_broker.signer] key_path`: every replica must "
          "sign and accept tokens with the same key");
    }
    if (c.storage.postgres.sslmode == "disable" || c.storage.postgres.sslmode == "allow" ||
        c.storage.postgres.sslmode == "prefer") {
      c.warnings.push_back(fmt::format(
          "storage_backend.backends.postgres.sslmode = {}: the database connection is not "
          "verified (use verify-full with sslrootcert)",
          c.storage.postgres.sslmode));
    }
  }
  return c;
}

absl::StatusOr<KbsConfig> LoadKbsConfig(const std::string& path) {
  auto text = core::ReadFile(path);
  if (!text.ok()) return absl::NotFoundError("config: " + core::Message(text.status()));
  std::string dir = std::filesystem::absolute(path).parent_path().string();
  return ParseKbsConfig(*text, dir);
}

}  // namespace ccburst::kbs
