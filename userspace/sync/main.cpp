// execgate-sync: the fleet's network side (docs/fleet.md "execgate-sync"). Runs without
// root and without any capability (its unit: packaging/systemd/execgate-sync.service),
// reads the policy's [fleet], talks to etcd, and feeds execgated through its control socket.
// Nothing it sends widens what runs beyond what signed envelopes allow.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>

#include "common/fs.h"
#include "execgate/defaults.h"
#include "execgate/error.h"
#include "execgate/policy.h"
#include "sync/fleet_sync.h"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  using namespace execgate;
  CLI::App app{"execgate-sync: tickets and revocations from the fleet's etcd into execgated"};
  std::string config = kDefaultConfigPath, socket = kDefaultSocketPath, state_dir = kDefaultFleetSyncStateDir,
              machine_id_file = "/etc/machine-id";
  app.add_option("--config", config, "the policy (its [fleet])")->capture_default_str();
  app.add_option("--socket", socket, "execgated's control socket")->capture_default_str();
  app.add_option("--state-dir", state_dir, "where the applied revision is kept")->capture_default_str();
  app.add_option("--machine-id", machine_id_file, "this host's machine id file")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const Policy policy = load_policy(config);
    if (!policy.fleet) throw Error(ErrorKind::validation, config + ": no [fleet]: nothing to synchronize");
    const FleetPolicy& f = *policy.fleet;
    fleet::EtcdOptions eo;
    eo.endpoints = f.endpoints;
    eo.user = f.user;
    if (!f.password_file.empty()) eo.password = read_file_trimmed(f.password_file, 4096);
    eo.ca_file = f.ca;
    eo.cert_file = f.cert;
    eo.key_file = f.key;
    fleet::EtcdClient watch_client(eo), read_client(eo);
    sync::SocketDaemon daemon(socket);
    sync::SyncOptions so;
    so.layout = fleet::FleetLayout{f.prefix, read_machine_id(machine_id_file)};
    so.state_file = state_dir + "/revision.json";
    so.publish_every = std::chrono::seconds(f.publish_interval);
    so.contact_every = std::chrono::milliseconds(std::clamp<long long>(f.max_silence * 1000 / 4, 500, 10000));
    sync::FleetSync fs(so, watch_client, read_client, daemon);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    std::fprintf(stderr, "execgate-sync: host %s, prefix %s, %zu endpoint(s), from revision %lld\n",
                 so.layout.host.c_str(), f.prefix.c_str(), f.endpoints.size(),
                 static_cast<long long>(fs.resume_from()));
    fs.run(g_stop);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "execgate-sync: %s\n", e.what());
    return static_cast<int>(exit_code_for(e));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "execgate-sync: %s\n", e.what());
    return 1;
  }
}
