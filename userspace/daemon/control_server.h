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
#include "control_api.h"

namespace execgate {

// Two lanes (docs/daemon.md "Control socket"): peers inside a gated scope have their own
// small budget and short idle timeout, so they never take the slots of peers outside it.
// A full lane drops its oldest client still waiting for its request to admit a new one
// (never one whose request was read), and a request already sent when its connection is
// accepted is answered at once: a request is never answered "busy".
struct ControlOptions {
  std::string path;
  gid_t allowed_gid = static_cast<gid_t>(-1);  // members of this group may connect (root always)
  std::size_t max_request = 1 << 20;
  std::size_t max_clients = 256;                 // peers outside the scope
  std::chrono::milliseconds idle_timeout{5000};
  std::size_t max_scope_clients = 16;            // peers inside a gated scope
  std::chrono::milliseconds scope_idle_timeout{1000};
  std::function<bool(pid_t)> peer_in_scope;      // by the peer's pid (SO_PEERCRED); unset: none is
};

class ControlServer {
 public:
  using Handler = std::function<std::string(const std::string& request, const ControlPeer& peer)>;
  ControlServer(ControlOptions opts, Handler handler);  // binds; throws IoError
  ~ControlServer();
  // Serves until stop becomes true; returns within ~tick_ms after that.
  void serve(const std::atomic<bool>& stop, int tick_ms, const std::function<void()>& on_tick);

 private:
  bool peer_allowed(int fd, uid_t* uid, pid_t* pid) const;
  ControlOptions opts_;
  Handler handler_;
  UniqueFd listen_;
};

// gid of a group name, or Error naming it.
gid_t group_id(const std::string& name);

}  // namespace execgate
