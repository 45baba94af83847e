#include "agent/tsm.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "core/file.h"

namespace ccburst::agent {
namespace {

using Clock = std::chrono::steady_clock;

std::string Errno() { return std::strerror(errno); }

// One entry directory for the lifetime of a report; removed on destruction (best effort: the
// kernel removes the attributes with the directory, the stand-in collects its own files).
class Entry {
 public:
  explicit Entry(std::string path) : path_(std::move(path)) {}
  ~Entry() { ::rmdir(path_.c_str()); }
  const std::string& path() const { return path_; }
  std::string Attr(std::string_view name) const { return fmt::format("{}/{}", path_, name); }

 private:
  std::string path_;
};

absl::StatusOr<std::unique_ptr<Entry>> MakeEntry(const std::string& root) {
  static std::atomic<uint64_t> counter{0};
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        fmt::format("tsm: `{}` is not a configfs-tsm report directory", root));
  }
  std::string path = fmt::format("{}/ccburst-{}-{}", root, ::getpid(), counter++);
  if (::mkdir(path.c_str(), 0700) != 0) {
    return absl::UnavailableError(fmt::format("tsm: cannot create `{}`: {}", path, Errno()));
  }
  return std::make_unique<Entry>(std::move(path));
}

// Reads an attribute, waiting up to `wait` for it to appear.
absl::StatusOr<std::string> ReadAttr(const Entry& e, std::string_view name,
                                     std::chrono::milliseconds wait) {
  std::string path = e.Attr(name);
  auto deadline = Clock::now() + wait;
  while (::access(path.c_str(), R_OK) != 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto data = core::ReadFile(path);
  if (!data.ok())
    return core::WithCode(core::Annotate(data.status(), "tsm"), absl::StatusCode::kUnavailable);
  return data;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

absl::StatusOr<uint64_t> ReadGeneration(const Entry& e, std::chrono::milliseconds wait) {
  CCB_ASSIGN_OR_RETURN(std::string text, ReadAttr(e, "generation", wait));
  std::string_view t = Trim(text);
  uint64_t value = 0;
  if (t.empty() || t.size() > 20) {
    return absl::UnavailableError(fmt::format("tsm: `{}` is not a number", e.Attr("generation")));
  }
  for (char c : t) {
    if (c < '0' || c > '9') {
      return absl::UnavailableError(fmt::format("tsm: `{}` is not a number", e.Attr("generation")));
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

absl::Status WriteAttr(const Entry& e, std::string_view name, std::string_view data) {
  std::string path = e.Attr(name);
  // O_CREAT: the kernel's attribute exists already; the stand-in's appears with our write.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return absl::UnavailableError(fmt::format("tsm: cannot open `{}`: {}", path, Errno()));
  ssize_t n = ::write(fd, data.data(), data.size());
  int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size())) {
    errno = saved;
    return absl::UnavailableError(fmt::format("tsm: cannot write `{}`: {}", path, Errno()));
  }
  return absl::OkStatus();
}

absl::Status CheckProvider(const Entry& e, std::string_view want, std::chrono::milliseconds wait) {
  CCB_ASSIGN_OR_RETURN(std::string provider, ReadAttr(e, "provider", wait));
  if (Trim(provider) != want) {
    return absl::FailedPreconditionError(
        fmt::format("tsm: provider of `{}` is `{}`, want `{}`", e.path(), Trim(provider), want));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TsmReport> TsmGetReport(const TsmOptions& options, std::string_view inblob) {
  if (inblob.size() > 64) {
    return absl::InvalidArgumentError(
        fmt::format("tsm: inblob of {} bytes exceeds 64", inblob.size()));
  }
  CCB_ASSIGN_OR_RETURN(std::unique_ptr<Entry> entry, MakeEntry(options.root));
  CCB_RETURN_IF_ERROR(CheckProvider(*entry, options.provider, options.attribute_wait));
  uint64_t before = 0, after = 0;
  for (int attempt = 1; attempt <= options.attempts; ++attempt) {
    CCB_ASSIGN_OR_RETURN(before, ReadGeneration(*entry, options.attribute_wait));
    CCB_RETURN_IF_ERROR(WriteAttr(*entry, "inblob", inblob));
    // The kernel bumps `generation` within the write; the stand-in right after it.
    auto deadline = Clock::now() + options.attribute_wait;
    do {
      CCB_ASSIGN_OR_RETURN(after, ReadGeneration(*entry, options.attribute_wait));
      if (after != before) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } while (Clock::now() < deadline);
    TsmReport report;
    CCB_ASSIGN_OR_RETURN(report.outblob, ReadAttr(*entry, "outblob", options.attribute_wait));
    if (options.read_auxblob) {
      if (auto aux = core::ReadFile(entry->Attr("auxblob")); aux.ok()) report.auxblob = *aux;
    }
    CCB_ASSIGN_OR_RETURN(after, ReadGeneration(*entry, options.attribute_wait));
    if (after == before + 1) {
      if (report.outblob.empty()) {
        return absl::UnavailableError(fmt::format("tsm: `{}` is empty", entry->Attr("outblob")));
      }
      return report;
    }
  }
  return absl::UnavailableError(fmt::format(
      "tsm: generation of `{}` went from {} to {} while the report was read (another writer); "
      "refused after {} attempts",
      entry->path(), before, after, options.attempts));
}

absl::StatusOr<std::string> TsmProvider(const std::string& root,
                                        std::chrono::milliseconds attribute_wait) {
  CCB_ASSIGN_OR_RETURN(std::unique_ptr<Entry> entry, MakeEntry(root));
  CCB_ASSIGN_OR_RETURN(std::string provider, ReadAttr(*entry, "provider", attribute_wait));
  return std::string(Trim(provider));
}

}  // namespace ccburst::agent
