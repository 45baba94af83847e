#include "burst/cloud.h"

#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/encoding.h"
#include "core/file.h"
#include "crypto/hash.h"
#include "crypto/openssl.h"
#include "crypto/random.h"
#include "net/http_client.h"

extern char** environ;

namespace ccburst::burst {
namespace {

constexpr size_t kNonce = 12, kTag = 16;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Starts `command` through /bin/sh as the leader of a new process group (its pid is the group's
// id), so that Stop reaches whatever the command starts.
absl::StatusOr<pid_t> Spawn(const std::string& command) {
  std::string sh = "/bin/sh", dash_c = "-c";
  std::string cmd = "exec " + command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::InternalError(fmt::format("cloud: cannot start `{}`: errno {}", command, rc));
  }
  return pid;
}

// SIGTERM to the process group `pid` leads, up to 5 s for the leader to exit (a stand-in stops
// what it started), then SIGKILL to the group; the group is always SIGKILLed at the end so that
// no member outlives the VM.
void Stop(pid_t pid) {
  if (kill(-pid, SIGTERM) != 0 && kill(pid, SIGTERM) != 0) {
    waitpid(pid, nullptr, WNOHANG);
    return;
  }
  bool exited = false;
  for (int i = 0; i < 250 && !exited; ++i) {
    exited = waitpid(pid, nullptr, WNOHANG) == pid;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid, SIGKILL);
  if (!exited) waitpid(pid, nullptr, 0);
}

// The `key=value` words of the first line of `text`.
std::map<std::string, std::string> Words(std::string_view text) {
  std::map<std::string, std::string> out;
  std::string_view line = text.substr(0, text.find('\n'));
  while (!line.empty()) {
    size_t sp = line.find(' ');
    std::string_view word = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    size_t eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out[std::string(word.substr(0, eq))] = std::string(word.substr(eq + 1));
  }
  return out;
}

}  // namespace

std::string_view VmStateName(VmState s) {
  switch (s) {
    case VmState::kBooting:
      return "booting";
    case VmState::kAttesting:
      return "attesting";
    case VmState::kServing:
      return "serving";
    case VmState::kRefused:
      return "refused";
  }
  return "?";
}

Cloud::~Cloud() { StopAll(); }

void Cloud::StopProcesses(Vm& vm) {
  // The agent first, then the host side it uses.
  for (auto it = vm.pids.rbegin(); it != vm.pids.rend(); ++it) Stop(*it);
  vm.pids.clear();
}

void Cloud::StopAll() {
  for (Vm& vm : vms_) {
    StopProcesses(vm);
    history_.push_back(vm);
  }
  vms_.clear();
}

int Cloud::Count(VmState s) const {
  return static_cast<int>(
      std::count_if(vms_.begin(), vms_.end(), [s](const Vm& vm) { return vm.state == s; }));
}

std::string Cloud::Expand(const std::string& tmpl, const Vm& vm) const {
  std::map<std::string, std::string> vars = options_.vars;
  vars["vm"] = fmt::format("vm-{}", vm.id);
  vars["vm_dir"] = vm.dir;
  vars["mrtd"] = vm.tampered ? options_.tampered_mrtd : options_.good_mrtd;
  vars["initdata"] = vm.dir + "/initdata.toml";
  vars["initdata_digest"] = vm.initdata_digest;
  for (const auto& [k, v] : vm.host_vars) vars[k] = v;
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    size_t close = tmpl[i] == '{' ? tmpl.find('}', i) : std::string::npos;
    if (close != std::string::npos) {
      auto it = vars.find(tmpl.substr(i + 1, close - i - 1));
      if (it != vars.end()) {
        out += it->second;
        i = close + 1;
        continue;
      }
    }
    out += tmpl[i++];
  }
  return out;
}

void Cloud::Reconcile(int replicas, double now, double dt) {
  totals_.instance_seconds += dt * static_cast<double>(vms_.size());
  while (static_cast<int>(vms_.size()) > replicas) {
    StopProcesses(vms_.back());
    history_.push_back(vms_.back());
    vms_.pop_back();
  }
  while (static_cast<int>(vms_.size()) < replicas) {
    Vm vm;
    vm.id = next_id_++;
    vm.tampered = vm.id == options_.tampered_vm;
    vm.created = now;
    vm.dir = fmt::format("{}/vm-{}", options_.work_dir, vm.id);
    vms_.push_back(std::move(vm));
    Boot(vms_.back());
  }
  for (Vm& vm : vms_) Advance(vm, now);
}

void Cloud::Boot(Vm& vm) {
  mkdir(vm.dir.c_str(), 0700);
  // Each guest has its own init-data (the KBS URL and certificate it trusts, as the peer pod's
  // io.katacontainers.config.hypervisor.cc_init_data annotation carries them).
  std::string cert = options_.vars.count("kbs_cert") ? options_.vars.at("kbs_cert") : "";
  auto cert_pem = core::ReadFile(cert);
  std::string pem = cert_pem.ok() ? *cert_pem : "";
  // TDX binds init-data through MRCONFIGID = SHA-384 of the document, an Azure vTPM through PCR8
  // extended with its SHA-256.
  bool sha256 = options_.initdata_algorithm == "sha256";
  std::string initdata = fmt::format(
      "version = \"0.1.0\"\nalgorithm = \"{2}\"\n[data]\n\"aa.toml\" = \'\'\'\n"
      "[token_configs.kbs]\nurl = \"{0}\"\ncert = \"\"\"\n{1}\"\"\"\n\'\'\'\n\"cdh.toml\" = "
      "\'\'\'\n"
      "[kbc]\nname = \"cc_kbc\"\nurl = \"{0}\"\nkbs_cert = \"\"\"\n{1}\"\"\"\n\'\'\'\n",
      options_.vars["kbs_url"], pem, sha256 ? "sha256" : "sha384");
  (void)core::WriteFile(vm.dir + "/initdata.toml", initdata);
  vm.initdata_digest = core::HexEncode(
      crypto::Hash(sha256 ? crypto::HashAlg::kSha256 : crypto::HashAlg::kSha384, initdata));
  // The host side starts with the VM (Azure provisions the vTPM while the VM boots); the agent
  // starts once the start-up delay passed and the stand-in printed its ready line (Advance).
  auto pid = Spawn(fmt::format("{} >{}/host.out 2>{}/host.log", Expand(options_.stub_command, vm),
                               vm.dir, vm.dir));
  if (!pid.ok()) return Finish(vm, vm.created, pid.status());
  vm.pids.push_back(*pid);
}

void Cloud::Advance(Vm& vm, double now) {
  if (vm.state == VmState::kBooting) {
    if (vm.pids.empty()) return;
    auto ready = core::ReadFile(vm.dir + "/host.out");
    if (!ready.ok() || ready->find('\n') == std::string::npos) {
      if (waitpid(vm.pids[0], nullptr, WNOHANG) == vm.pids[0]) {
        kill(-vm.pids[0], SIGKILL);
        vm.pids.clear();
        auto log = core::ReadFile(vm.dir + "/host.log");
        Finish(vm, now,
               absl::UnavailableError(
                   fmt::format("the VM's host stand-in exited: {}", Trim(log.ok() ? *log : ""))));
      }
      return;
    }
    if (now - vm.created < options_.startup_seconds) return;
    vm.host_vars = Words(*ready);
    auto pid = Spawn(fmt::format("{} >{}/agent.out 2>{}/agent.log",
                                 Expand(options_.agent_command, vm), vm.dir, vm.dir));
    if (!pid.ok()) return Finish(vm, now, pid.status());
    vm.pids.push_back(*pid);
    vm.state = VmState::kAttesting;
    return;
  }
  if (vm.state != VmState::kAttesting) return;
  {
    auto out = core::ReadFile(vm.dir + "/agent.out");
    constexpr std::string_view kLine = "ccburst-agent: listening on http://127.0.0.1:";
    size_t at = out.ok() ? out->find(kLine) : std::string::npos;
    if (at == std::string::npos) {
      int status = 0;
      if (vm.pids.size() == 2 && waitpid(vm.pids[1], &status, WNOHANG) == vm.pids[1]) {
        vm.pids.pop_back();
        auto log = core::ReadFile(vm.dir + "/agent.log");
        Finish(vm, now,
               absl::UnavailableError(fmt::format("agent exited: {}", Trim(log.ok() ? *log : ""))));
      }
      return;
    }
    int port = std::atoi(out->c_str() + at + kLine.size());
    vm.agent_port = port;
    net::HttpClientOptions o;
    o.base_url = fmt::format("http://127.0.0.1:{}", port);
    o.timeout = std::chrono::seconds(20);
    auto http = net::HttpClient::Create(std::move(o));
    if (!http.ok()) return Finish(vm, now, http.status());
    // The workload's `curl http://127.0.0.1:8006/cdh/resource/default/key/model`.
    auto r = (*http)->Send("GET", "/cdh/resource/default/key/model", {}, {});
    if (!r.ok()) return Finish(vm, now, r.status());
    if (r->status != 200) {
      return Finish(
          vm, now,
          absl::PermissionDeniedError(fmt::format("HTTP {}: {}", r->status, Trim(r->body))));
    }
    return Finish(vm, now, r->body);
  }
}

void Cloud::Finish(Vm& vm, double now, absl::StatusOr<std::string> key) {
  absl::StatusOr<std::string> model =
      key.ok() ? core::ReadFile(options_.model_file) : absl::StatusOr<std::string>(key.status());
  absl::StatusOr<std::string> plain =
      model.ok() ? OpenModel(*key, *model) : absl::StatusOr<std::string>(model.status());
  if (key.ok()) ++totals_.secrets_released;
  if (plain.ok() && core::HexEncode(crypto::Sha256(*plain)) != options_.model_sha256_hex) {
    plain = absl::DataLossError("model digest differs after decryption");
  }
  if (!plain.ok()) {
    vm.state = VmState::kRefused;
    vm.reason = core::Message(plain.status());
    ++totals_.refused;
    totals_.refusals.push_back(fmt::format(
        "vm-{} (mrtd {}...): {}", vm.id,
        (vm.tampered ? options_.tampered_mrtd : options_.good_mrtd).substr(0, 8), vm.reason));
    return;
  }
  (void)core::WriteSecretFile(vm.dir + "/model.bin", *plain);
  vm.state = VmState::kServing;
  vm.ready_at = now;
  ++totals_.attested;
}

absl::StatusOr<std::string> SealModel(std::string_view key, std::string_view plaintext) {
  if (key.size() != 32) return absl::InvalidArgumentError("model: key is not 32 bytes");
  std::string nonce = crypto::RandomBytes(kNonce);
  crypto::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::string out = nonce;
  out.resize(kNonce + plaintext.size() + kTag);
  int len = 0, fin = 0;
  auto* k = reinterpret_cast<const unsigned char*>(key.data());
  auto* n = reinterpret_cast<const unsigned char*>(nonce.data());
  auto* o = reinterpret_cast<unsigned char*>(out.data()) + kNonce;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, n) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + plaintext.size()) != 1) {
    return absl::InternalError("model: AES-256-GCM encryption failed");
  }
  return out;
}

absl::StatusOr<std::string> OpenModel(std::string_view key, std::string_view sealed) {
  if (key.size() != 32) {
    return absl::PermissionDeniedError(fmt::format("model: key is {} bytes, want 32", key.size()));
  }
  if (sealed.size() < kNonce + kTag) return absl::InvalidArgumentError("model: file too short");
  size_t n = sealed.size() - kNonce - kTag;
  std::string out(n, '\0');
  std::string tag(sealed.substr(kNonce + n));
  crypto::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0, fin = 0;
  auto* k = reinterpret_cast<const unsigned char*>(key.data());
  auto* iv = reinterpret_cast<const unsigned char*>(sealed.data());
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, iv) != 1 ||
      EVP_DecryptUpdate(ctx.get(), o, &len,
                        reinterpret_cast<const unsigned char*>(sealed.data()) + kNonce,
                        static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1) {
    return absl::InternalError("model: AES-256-GCM setup failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), o + len, &fin) != 1) {
    return absl::PermissionDeniedError("model: AES-256-GCM tag does not verify (wrong key?)");
  }
  return out;
}

}  // namespace ccburst::burst
