#include "control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "execgate/error.h"

namespace execgate {

gid_t group_id(const std::string& name) {
  struct group* g = ::getgrnam(name.c_str());
  if (!g) throw Error(ErrorKind::validation, "[control] group: no group named \"" + name + "\"");
  return g->gr_gid;
}

ControlServer::ControlServer(ControlOptions opts, Handler handler) : opts_(std::move(opts)), handler_(std::move(handler)) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(opts_.path).parent_path(), ec);
  listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listen_) throw IoError(opts_.path, errno, "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (opts_.path.size() >= sizeof addr.sun_path) throw Error(ErrorKind::usage, opts_.path + ": socket path too long");
  std::strcpy(addr.sun_path, opts_.path.c_str());
  ::unlink(opts_.path.c_str());
  if (::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw IoError(opts_.path, errno, "bind");
  // Permission is enforced by peer credentials; the mode only keeps strangers out early.
  ::chmod(opts_.path.c_str(), opts_.allowed_gid == static_cast<gid_t>(-1) ? 0600 : 0660);
  if (opts_.allowed_gid != static_cast<gid_t>(-1)) ::chown(opts_.path.c_str(), 0, opts_.allowed_gid);
  if (::listen(listen_.get(), 128) != 0) throw IoError(opts_.path, errno, "listen");
}

ControlServer::~ControlServer() { ::unlink(opts_.path.c_str()); }

bool ControlServer::peer_allowed(int fd, uid_t* uid, pid_t* pid) const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  *uid = cred.uid;
  *pid = cred.pid;
  if (cred.uid == 0) return true;
  if (opts_.allowed_gid == static_cast<gid_t>(-1)) return false;
  if (cred.gid == opts_.allowed_gid) return true;
  struct passwd* pw = ::getpwuid(cred.uid);
  if (!pw) return false;
  int n = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<std::size_t>(n));
    ::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n);
  }
  for (int i = 0; i < n; ++i)
    if (groups[static_cast<std::size_t>(i)] == opts_.allowed_gid) return true;
  return false;
}

namespace {
struct Client {
  UniqueFd fd;
  uid_t uid = 0;
  bool scope = false;  // the peer is inside a gated scope: its lane
  std::string in;
  std::string out;
  std::size_t sent = 0;
  std::chrono::steady_clock::time_point accepted, deadline;
  bool replying = false;
  pid_t pid = 0;  // SO_PEERCRED's, at connect
};

std::string error_reply(const std::string& msg) {
  std::string m;
  for (char c : msg) m += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return "{\"ok\":false,\"error\":\"" + m + "\"}\n";
}
}  // namespace

void ControlServer::serve(const std::atomic<bool>& stop, int tick_ms, const std::function<void()>& on_tick) {
  std::vector<Client> clients;
  auto last_tick = std::chrono::steady_clock::now();
  // Reads what the client sent; a whole line is handled at once and its reply queued.
  auto receive = [&](Client& c) {
    char buf[65536];
    ssize_t r = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
      c.fd.reset();
      return;
    }
    if (r > 0) c.in.append(buf, static_cast<std::size_t>(r));
    auto nl = c.in.find('\n');
    if (nl == std::string::npos && c.in.size() > opts_.max_request) {
      c.out = error_reply("request larger than " + std::to_string(opts_.max_request) + " bytes");
      c.replying = true;
      ::shutdown(c.fd.get(), SHUT_RD);
    } else if (nl != std::string::npos) {
      c.out = handler_(c.in.substr(0, nl), ControlPeer{c.uid, c.scope, c.pid}) + "\n";
      c.in.clear();
      c.in.shrink_to_fit();
      c.replying = true;
    }
  };
  auto send_reply = [&](Client& c) {
    ssize_t w = ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) c.sent += static_cast<std::size_t>(w);
    if (w < 0 && errno != EAGAIN) c.fd.reset();
    if (c.sent >= c.out.size()) c.fd.reset();
  };
  auto refuse = [](int fd, const std::string& why) {
    const std::string m = error_reply(why);
    ::send(fd, m.data(), m.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  };
  while (!stop.load()) {
    std::vector<pollfd> fds;
    fds.push_back({listen_.get(), POLLIN, 0});
    for (auto& c : clients) fds.push_back({c.fd.get(), static_cast<short>(c.replying ? POLLOUT : POLLIN), 0});
    int n = ::poll(fds.data(), fds.size(), tick_ms);
    if (n < 0 && errno != EINTR) throw IoError(opts_.path, errno, "poll");
    const auto now = std::chrono::steady_clock::now();

    for (std::size_t i = 1; i < fds.size(); ++i) {
      Client& c = clients[i - 1];
      if (!fds[i].revents) continue;
      if (c.replying)
        send_reply(c);
      else
        receive(c);
    }
    for (auto& c : clients)
      if (c.fd && now > c.deadline) c.fd.reset();  // idle or slow clients are dropped
    std::erase_if(clients, [](const Client& c) { return !c.fd; });

    if (fds[0].revents & POLLIN) {
      for (;;) {
        UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (!fd) break;
        uid_t uid = 0;
        pid_t pid = 0;
        if (!peer_allowed(fd.get(), &uid, &pid)) {
          refuse(fd.get(), "permission denied: root or a member of the control group only");
          continue;
        }
        // a peer whose scope cannot be told (no pid) is taken as inside: the small lane
        const bool scope = opts_.peer_in_scope && (pid <= 0 || opts_.peer_in_scope(pid));
        Client c{std::move(fd), uid, scope, {}, {}, 0, now,
                 now + (scope ? opts_.scope_idle_timeout : opts_.idle_timeout), false, pid};
        // a request already sent is answered now, whatever the lane's load
        receive(c);
        if (c.fd && c.replying) send_reply(c);
        if (!c.fd) continue;
        const std::size_t cap = scope ? opts_.max_scope_clients : opts_.max_clients;
        std::size_t in_lane = 0;
        Client* oldest = nullptr;  // the lane's oldest client still waiting for its request
        for (auto& o : clients) {
          if (!o.fd || o.scope != scope) continue;
          ++in_lane;
          if (!o.replying && (!oldest || o.accepted < oldest->accepted)) oldest = &o;
        }
        if (!c.replying && in_lane >= cap) {
          if (!oldest) {
            refuse(c.fd.get(), "busy: too many clients");
            continue;
          }
          refuse(oldest->fd.get(), "busy: too many clients");
          oldest->fd.reset();
        }
        clients.push_back(std::move(c));
      }
      std::erase_if(clients, [](const Client& c) { return !c.fd; });
    }
    if (now - last_tick >= std::chrono::milliseconds(tick_ms)) {
      last_tick = now;
      if (on_tick) on_tick();
    }
  }
}

}  // namespace execgate
