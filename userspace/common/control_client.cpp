#include "common/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "execgate/error.h"
#include "common/fs.h"

namespace execgate {

nlohmann::json daemon_call(const std::string& socket, const nlohmann::json& request, std::chrono::seconds timeout) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw IoError(socket, errno, "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket.size() >= sizeof addr.sun_path) throw Error(ErrorKind::usage, socket + ": socket path too long");
  std::strcpy(addr.sun_path, socket.c_str());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    throw DaemonUnreachable(socket + ": cannot reach execgated: " + std::strerror(err) +
                                   " (is the daemon running? --socket selects another path)");
  }
  const std::string line = request.dump() + "\n";
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::send(fd.get(), line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(socket, errno, "send");
    }
    off += static_cast<std::size_t>(n);
  }
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw DaemonUnreachable(socket + ": execgated did not answer in time");
    pollfd p{fd.get(), POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    char buf[65536];
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(socket, errno, "recv");
    }
    if (n == 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
    if (reply.find('\n') != std::string::npos) break;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(reply.substr(0, reply.find('\n')));
  } catch (const std::exception&) {
    throw Error(ErrorKind::io, socket + ": malformed reply from execgated");
  }
  if (!j.is_object() || !j.value("ok", false))
    throw Error(ErrorKind::io, "execgated: " + (j.is_object() ? j.value("error", std::string("request failed")) : "request failed"));
  return j;
}

}  // namespace execgate
