// The control socket: one JSON request per connection, newline-terminated, one JSON
// reply. A poll loop serves many clients without letting any one of them stall the
// rest: bounded request size, idle deadline, connection cap, peer-credential check.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/fs.h"

namespace execgate {

struct ControlOptions {
  std::string path;
  gid_t allowed_gid = static_cast<gid_t>(-1);  // members of this group may connect (root always)
  std::size_t max_request = 1 << 20;
  std::size_t max_clients = 256;
  std::chrono::milliseconds idle_timeout{5000};
};

class ControlServer {
 public:
  using Handler = std::function<std::string(const std::string& request, uid_t peer_uid)>;
  ControlServer(ControlOptions opts, Handler handler);  // binds; throws IoError
  ~ControlServer();
  // Serves until stop becomes true; returns within ~tick_ms after that.
  void serve(const std::atomic<bool>& stop, int tick_ms, const std::function<void()>& on_tick);

 private:
  bool peer_allowed(int fd, uid_t* uid) const;
  ControlOptions opts_;
  Handler handler_;
  UniqueFd listen_;
};

// gid of a group name, or Error naming it.
gid_t group_id(const std::string& name);

}  // namespace execgate
