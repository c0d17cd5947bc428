// File naming, listing, the append-only attribute and small I/O helpers.
#include <limits>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "execgate/audit.h"
#include "execgate/error.h"
#include "common/fs.h"
#include "internal.h"

namespace execgate {

namespace fs = std::filesystem;

std::string audit_rotated_name(const std::string& live_path, std::uint64_t first_seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ".%020llu", static_cast<unsigned long long>(first_seq));
  return live_path + buf;
}

std::string audit_live_path(const std::string& path_or_dir) {
  std::error_code ec;
  if (fs::is_directory(path_or_dir, ec)) return (fs::path(path_or_dir) / "audit.jsonl").string();
  return path_or_dir;
}

std::vector<std::string> audit_log_files(const std::string& path_or_dir) {
  const std::string live = audit_live_path(path_or_dir);
  fs::path lp(live);
  fs::path dir = lp.has_parent_path() ? lp.parent_path() : fs::path(".");
  std::vector<std::pair<std::uint64_t, std::string>> rotated;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::uint64_t seq = 0;
    std::string cand = (dir / it->path().filename()).string();
    if (!lp.has_parent_path()) cand = it->path().filename().string();
    if (audit_detail::parse_rotated_name(live, cand, &seq)) rotated.emplace_back(seq, cand);
  }
  std::sort(rotated.begin(), rotated.end());
  std::vector<std::string> out;
  for (auto& r : rotated) out.push_back(std::move(r.second));
  if (fs::exists(live, ec)) out.push_back(live);
  return out;
}

namespace audit_detail {

int get_append_only(int fd, bool* on) {
  int flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return errno;
  *on = (flags & FS_APPEND_FL) != 0;
  return 0;
}

int set_append_only(int fd, bool on) {
  int flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return errno;
  int want = on ? (flags | FS_APPEND_FL) : (flags & ~FS_APPEND_FL);
  if (want == flags) return 0;
  if (::ioctl(fd, FS_IOC_SETFLAGS, &want) != 0) return errno;
  return 0;
}

void fsync_parent_dir(const std::string& path) {
  fs::path p(path);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd) ::fsync(dfd.get());
}

bool parse_rotated_name(const std::string& live_path, const std::string& candidate, std::uint64_t* first_seq) {
  if (candidate.size() != live_path.size() + 21 || candidate.compare(0, live_path.size(), live_path) != 0 ||
      candidate[live_path.size()] != '.')
    return false;
  std::uint64_t v = 0;
  for (std::size_t i = live_path.size() + 1; i < candidate.size(); ++i) {
    char c = candidate[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *first_seq = v;
  return true;
}

std::string read_whole(const std::string& path) {
  return read_file(path, std::numeric_limits<std::size_t>::max());
}

std::vector<std::string_view> split_lines(std::string_view data, std::string_view* torn) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  for (;;) {
    std::size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) break;
    lines.push_back(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
  *torn = data.substr(pos);
  return lines;
}

}  // namespace audit_detail
}  // namespace execgate
