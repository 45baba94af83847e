// Configuration of ccburst-kbs, read from a TOML file that uses Trustee's names for everything
// ccburst implements (see docs/configuration.md). Parsing is strict: an unknown key or a value
// of the wrong type is an error that names it, and defaults are the safe choice (HTTPS, admin
// API closed).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attestation/verifier_registry.h"
#include "core/status.h"
#include "net/http_server.h"
#include "store/key_value_store.h"

namespace ccburst::kbs {

enum class AdminMode { kDenyAll, kInsecureAllowAll, kAuthenticatedAuthorization };

struct IdentityProvider {
  std::string issuer;          // empty: `iss` not checked
  std::string audience;        // empty: `aud` not checked
  std::string public_key_uri;  // file path or file:// URI of a PEM public key
};

struct AdminAcl {
  std::string role;
  std::string allowed_endpoints;  // anchored regex over the request path (and query)
};

struct KbsConfig {
  struct HttpServer {
    std::vector<std::string> sockets{"127.0.0.1:8080"};
    bool insecure_http = false;
    std::optional<std::string> private_key;  // PEM file for HTTPS
    std::optional<std::string> certificate;  // PEM chain file for HTTPS
    uint64_t payload_request_size_mib = 2;
    int worker_count = 0;  // 0: four per CPU, 8 to 64
    // Most connections open at once; 0: below the file limit (net::HttpServerOptions).
    int64_t max_connections = 0;
    // Trustee's TLS keys (`tls_profile` old|intermediate|modern|custom, `tls_min_version`,
    // `tls_max_version`, `tls_ciphers`, `tls_groups`), resolved into protocol settings. They
    // may sit in [http_server] itself (the reference's flattened form) or in
    // [http_server.tls] (which may also hold private_key and certificate).
    std::string tls_profile = "intermediate";
    net::TlsOptions tls;
  } http_server;

  struct AttestationToken {
    // Extra JWKS files (paths or file:// URIs) whose keys may sign bearer tokens, besides our own.
    std::vector<std::string> trusted_jwk_sets;
    // Trust the key in a token's own `jwk` header (testing only; signature is still checked).
    bool insecure_header_jwk = false;
    // Extra JSON-pointer paths to the TEE public key inside token claims.
    std::vector<std::string> extra_teekey_paths;
  } attestation_token;

  struct AttestationService {
    std::chrono::minutes session_timeout{5};
    std::chrono::minutes token_duration{5};
    std::string issuer_name = "ccburst-kbs";
    std::string developer_name = "https://github.com/ccburst";
    std::string build_name = "ccburst-kbs 0.1.0";
    std::optional<std::string> signer_key_path;  // P-256 PEM; generated at start-up when absent

    // [attestation_service.verifier_config]: the hardware TEE verifiers (attestation/'s
    // registry parses each TEE's sub-table).
    attestation::VerifierConfig verifier_config;
  } attestation_service;

  struct Admin {
    AdminMode mode = AdminMode::kDenyAll;
    std::vector<IdentityProvider> identity_providers;
    std::vector<AdminAcl> acls;
  } admin;

  struct Storage {
    // "Sqlite" (durable, default), "Postgres" (shared by replicas) or "Memory" (lost on exit).
    std::string type = "Sqlite";
    std::string sqlite_path;  // default: kbs.db beside the config file
    // [storage_backend.backends.sqlite] initialize: make an existing file without our schema a
    // new, empty store instead of refusing to start.
    bool sqlite_initialize = false;
    // [storage_backend.backends.postgres]: the reference's db, username, password, host, port,
    // and ours (pool_size, statement_timeout_ms, connect_timeout_s, sslmode, sslrootcert,
    // confirm_share_wait_us). The
    // environment variable POSTGRES_URL, when set, replaces the connection fields (as in the
    // reference); POSTGRES_PASSWORD supplies a password the file does not hold.
    store::PostgresOptions postgres;
    // [storage_backend.encryption]: the key-encryption keyring (store/encrypted_store.h), from a
    // file (`key_file`) or an environment variable (`key_env`). Required with Postgres.
    std::optional<std::string> kek_file;
    std::optional<std::string> kek_env;
  } storage;

  // [audit]: the tamper-evident audit trail (docs/audit.md).
  struct Audit {
    bool enabled = false;
    // A signed checkpoint after every this many records (at least 1).
    int64_t checkpoint_every = 100;
    // The audit key: a P-256 PEM private key (ES256). Required when enabled; `ccburst audit
    // public-key` exports its public half for auditors.
    std::optional<std::string> signing_key;
    // When the trail cannot be written, releases fail (503) unless this is true; then they go on
    // and the failure is logged and counted.
    bool fail_open = false;
    // What a release waits for before its secret is sent: `commit` (the record is committed in
    // the database, so it survives a crash of the KBS, and flushed to disk within
    // sync_interval_ms) or `flush` (the record is on disk: it survives a power loss too, at the
    // cost of one disk flush in every release's latency).
    enum class Durability { kCommit, kFlush };
    Durability durability = Durability::kCommit;
    // How often committed records are put on disk, and the longest an attestation, refusal or
    // admin record waits in memory before it is stored (10..60000).
    int64_t sync_interval_ms = 100;
  } audit;

  // [policy_engine] policy_path: resource policy installed at start-up when none is stored.
  std::optional<std::string> resource_policy_path;

  // Insecure settings in effect, to be announced loudly at start-up.
  std::vector<std::string> warnings;
};

// Parses TOML text. `base_dir` resolves relative file paths (the config file's directory).
// Errors are InvalidArgument: "config: unknown key `http_server.foo`", "config: <syntax error> at
// line 3, column 7".
absl::StatusOr<KbsConfig> ParseKbsConfig(std::string_view toml_text, const std::string& base_dir);

// Reads and parses a config file; a missing file is NotFound naming the path.
absl::StatusOr<KbsConfig> LoadKbsConfig(const std::string& path);

}  // namespace ccburst::kbs
