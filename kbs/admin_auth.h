// Authentication and authorization of the KBS admin API, configured with Trustee's names:
// Bearer JWTs (EdDSA, ES256, RS256) from configured identity providers, `exp` required, `role`
// matched against regex ACLs over the normalized request path (never the query). DenyAll refuses
// everything; InsecureAllowAll admits everything (and start-up says so loudly).
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/key.h"
#include "kbs/config.h"

namespace ccburst::kbs {

class AdminAuthorizer {
 public:
  // Loads the identity providers' public keys and compiles the ACL regexes; errors name the file
  // or the ACL entry.
  static absl::StatusOr<std::unique_ptr<AdminAuthorizer>> Create(const KbsConfig::Admin& config,
                                                                 const core::Clock& clock);

  // Checks one request. `authorization` is the Authorization header value (may be empty), `path`
  // the request path without the query; the ACLs are matched against net::NormalizePath(path),
  // the same form the router dispatches on, so `?x=/public`, `%2e%2e` or `/./` cannot make a
  // path look like another. Unauthenticated: no/invalid/expired token (HTTP 401);
  // PermissionDenied: authenticated but the role may not use this endpoint, or the path does not
  // normalize (HTTP 403).
  // `who`, when set, receives the caller's identity for the audit trail.
  struct Identity {
    std::string subject;  // the token's `sub` ("" when absent; "(insecure-allow-all)" without one)
    std::string role;
  };
  absl::Status Check(std::string_view authorization, std::string_view path,
                     Identity* who = nullptr) const;

 private:
  struct Provider {
    IdentityProvider config;
    crypto::PublicKey key;
  };
  struct Acl {
    std::string role;
    std::string pattern;
    std::regex regex;
  };
  AdminAuthorizer(AdminMode mode, const core::Clock& clock) : mode_(mode), clock_(clock) {}

  AdminMode mode_;
  const core::Clock& clock_;
  std::vector<Provider> providers_;
  std::vector<Acl> acls_;
};

}  // namespace ccburst::kbs
