#include "spool.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>

#include "execgate/error.h"

namespace execgate {
namespace fs = std::filesystem;

Spool::Spool(std::string inbox, Submit submit) : inbox_(std::move(inbox)), submit_(std::move(submit)) {
  inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_) throw IoError(inbox_, errno, "inotify_init1");
  if (::inotify_add_watch(inotify_.get(), inbox_.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
    throw IoError(inbox_, errno, "inotify_add_watch");
}

void Spool::drain() {
  char buf[4096];
  while (::read(inotify_.get(), buf, sizeof buf) > 0) {
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(inbox_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".") || !entry.is_regular_file(ec)) continue;
    std::string reason, detail;
    bool ok = false;
    try {
      std::string body = read_file(entry.path().string(), 64 << 10);
      nlohmann::json r = submit_(body, "spool:" + name);
      ok = r.value("result", "") != "refused";
      reason = r.value("reason", "");
      detail = r.value("detail", "");
    } catch (const std::exception& e) {
      reason = "malformed";
      detail = e.what();
    }
    const fs::path dest = fs::path(inbox_) / (ok ? "done" : "rejected") / name;
    fs::rename(entry.path(), dest, ec);
    if (!ok) write_file_atomic(dest.string() + ".reason", reason + ": " + detail + "\n", 0644);
  }
}

}  // namespace execgate
