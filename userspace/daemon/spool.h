// The spool: /var/lib/execgate/inbox/ receives tickets and revocations from any sync
// tool; each file is submitted once and moved to done/ or rejected/ (+ NAME.reason).
//
// The inbox is writable from the gated scope, so execgated (root, outside the scope) must
// not be its confused deputy: everything is done through directory fds it opened itself
// (never a path below the inbox, never a symlink followed, never a blocking read). An
// entry is read only when it is a regular file on the inbox's own filesystem with one
// link and at most kMaxBytes; anything else is rejected unread. docs/daemon.md "Spool".
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <set>
#include <string>

#include "common/fs.h"
#include <nlohmann/json.hpp>

namespace execgate {

class Spool {
 public:
  using Submit = std::function<nlohmann::json(const std::string& envelope, const std::string& source)>;
  static constexpr std::size_t kMaxBytes = 64 << 10;   // larger: malformed
  static constexpr std::size_t kMaxPerDrain = 32;      // entries judged by one drain()
  static constexpr std::size_t kMaxScanned = 4096;     // names looked at by one drain()

  // Opens the inbox (O_DIRECTORY|O_NOFOLLOW) and its done/ and rejected/, repairing those
  // (an impostor symlink or file removed, a directory not the daemon's set aside, then
  // created anew); sets up an inotify watch. Throws IoError when the inbox cannot be opened.
  Spool(std::string inbox, Submit submit);
  int fd() const { return inotify_.get(); }  // readable when the inbox changed
  // Judges at most kMaxPerDrain entries (temp names starting with '.' are skipped) and
  // returns true when some may be left: call again without waiting for the fd.
  bool drain();

 private:
  UniqueFd open_subdir(const char* name);
  void handle(const std::string& name);
  void finish(const std::string& name, bool ok, const std::string& reason);

  std::string inbox_;
  Submit submit_;
  UniqueFd inbox_fd_, done_fd_, rejected_fd_, inotify_;
  dev_t dev_ = 0;
  std::set<std::string> stuck_;  // neither movable nor removable: not judged again
};

}  // namespace execgate
