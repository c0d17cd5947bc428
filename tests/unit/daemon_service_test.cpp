// systemd's readiness protocol without libsystemd: the datagram systemd would read.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/fs.h"
#include "service.h"

using namespace execgate;

TEST(ServiceNotify, SendsTheStateToNotifySocket) {
  const std::string path = "/tmp/eg-notify-" + std::to_string(::getpid());
  ::unlink(path.c_str());
  UniqueFd server(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(server);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  EXPECT_TRUE(service::notify("READY=1\nSTATUS=enforcing"));
  char buf[256] = {};
  const ssize_t n = ::recv(server.get(), buf, sizeof buf - 1, MSG_DONTWAIT);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "READY=1\nSTATUS=enforcing");
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(service::notify("READY=1")) << "not started by systemd: nothing to tell";
  ::unlink(path.c_str());
}
