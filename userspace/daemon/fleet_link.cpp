#include "fleet_link.h"

#include <pwd.h>

#include "common/fs.h"
#include "execgate/error.h"
#include "execgate/names.h"
#include "service.h"

namespace execgate {
using nlohmann::json;

FleetLink::FleetLink(GateOps& gate, const Clock& clock, std::string state_file, AuditSink audit)
    : gate_(gate), clock_(clock), state_file_(std::move(state_file)), audit_(std::move(audit)) {}

void FleetLink::configure(const std::optional<FleetPolicy>& fleet) {
  fleet_ = fleet;
  sync_uid_.reset();
  if (!fleet_) {
    if (silent_) set_silent(false, "the policy has no [fleet] any more");
    return;
  }
  if (const passwd* pw = ::getpwnam(fleet_->sync_user.c_str())) sync_uid_ = pw->pw_uid;
  if (!loaded_) {
    loaded_ = true;
    try {
      const json j = json::parse(read_file(state_file_, 4096));
      last_contact_ = j.at("last_contact").get<std::int64_t>();
      revision_ = j.at("revision").get<std::int64_t>();
    } catch (const IoError& e) {
      if (e.kind() != ErrorKind::not_found) throw;
      // never in contact: the deadline counts from now (a first start is given one term)
      last_contact_ = clock_.now();
    } catch (const json::exception& e) {
      throw Error(ErrorKind::validation, state_file_ + ": corrupted fleet state: " + e.what());
    }
  }
  check();
}

void FleetLink::contact(std::int64_t revision) {
  if (!fleet_) throw Error(ErrorKind::usage, "fleet contact: the policy has no [fleet]");
  if (revision < 0) throw Error(ErrorKind::validation, "fleet contact: revision must be >= 0");
  last_contact_ = clock_.now();
  revision_ = std::max(revision_, revision);
  persist();
  if (silent_) set_silent(false, "contact at revision " + std::to_string(revision));
}

void FleetLink::check() {
  if (!fleet_) return;
  const std::int64_t quiet = clock_.now() - last_contact_;
  if (!silent_ && quiet > fleet_->max_silence)
    set_silent(true, "no confirmed contact with etcd for " + std::to_string(quiet) + " s (max_silence " +
                         std::to_string(fleet_->max_silence) + " s)");
}

void FleetLink::set_silent(bool silent, const std::string& detail) {
  gate_.set_fleet_silent(silent);  // throws: the edge is taken again at the next check
  silent_ = silent;
  audit_(json{{"event", name(EventKind::fleet)},
              {"reason", name(silent ? RecordReason::silent : RecordReason::resumed)},
              {"detail", detail},
              {"revision", revision_},
              {"last_contact", last_contact_}});
  service::log(silent ? service::Priority::warning : service::Priority::notice, "fleet: " + detail);
}

void FleetLink::persist() const {
  write_file_atomic(state_file_, json{{"last_contact", last_contact_}, {"revision", revision_}}.dump() + "\n", 0600);
}

json FleetLink::status_json() const {
  if (!fleet_) return nullptr;
  return {{"silent", silent_},
          {"revision", revision_},
          {"last_contact", last_contact_},
          {"max_silence", fleet_->max_silence},
          {"prefix", fleet_->prefix},
          {"suspend_local", fleet_->suspend_local}};
}

bool FleetLink::peer_may_sync(uid_t uid) const { return uid == 0 || (sync_uid_ && *sync_uid_ == uid); }

}  // namespace execgate
