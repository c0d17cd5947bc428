// execgated as a service: its log lines and systemd's readiness protocol.
//  - log(): one line on stderr, "execgated: ..."; under systemd (JOURNAL_STREAM names
//    stderr) prefixed with the sd-daemon(3) priority ("<3>"), so journald files it at
//    that priority.
//  - notify(): sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (READY=1
//    once the programs are attached and the policy applied, RELOADING=1, STOPPING=1,
//    STATUS=...); nothing when not started by systemd.
#pragma once

#include <string>

namespace execgate::service {

enum class Priority { error = 3, warning = 4, notice = 5, info = 6 };

void log(Priority priority, const std::string& message);
// Returns whether systemd was told (false when $NOTIFY_SOCKET is unset or unusable).
bool notify(const std::string& state);

}  // namespace execgate::service
