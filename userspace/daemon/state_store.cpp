#include "state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "execgate/error.h"
#include "common/fs.h"
#include "state_seal.h"

namespace execgate {
namespace fs = std::filesystem;
using nlohmann::json;

static constexpr const char* kInstalled = "installed";
static constexpr const char* kTombstones = "tombstones";
static constexpr const char* kSpent = "spent";

StateStore::StateStore(std::string dir) : dir_(std::move(dir)) {
  for (const char* sub : {kInstalled, kTombstones, kSpent, "inbox", "inbox/done", "inbox/rejected"}) {
    std::error_code ec;
    fs::create_directories(fs::path(dir_) / sub, ec);
    if (ec) throw IoError(dir_ + "/" + sub, ec.value(), "cannot create state directory");
  }
  ::chmod(dir_.c_str(), 0700);
}

std::string StateStore::path(const char* sub, const std::string& id) const {
  if (!is_lower_hex(id, 32)) throw Error(ErrorKind::validation, "state: invalid ticket id \"" + id + "\"");
  return dir_ + "/" + sub + "/" + id + ".json";
}

void StateStore::put_installed(const std::string& id, const InstalledRecord& rec) {
  json j{{"envelope", rec.envelope}, {"installed_at", rec.installed_at}};
  j["uses_left"] = rec.uses_left ? json(*rec.uses_left) : json(nullptr);
  if (!rec.fleet_key.empty()) j["fleet_key"] = rec.fleet_key;
  if (seal_) j["seal"] = seal_->seal(id, rec);
  write_file_atomic(path(kInstalled, id), j.dump() + "\n", 0600);
}

void StateStore::remove_installed(const std::string& id) {
  std::string p = path(kInstalled, id);
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) throw IoError(p, errno, "cannot remove");
  if (int d = ::open((dir_ + "/" + kInstalled).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
}

void StateStore::put_tombstone(const std::string& ticket_id, const std::string& revocation_id) {
  write_file_atomic(path(kTombstones, ticket_id), json{{"revocation", revocation_id}}.dump() + "\n", 0600);
}

void StateStore::put_spent(const std::string& ticket_id, const std::string& digest) {
  write_file_atomic(path(kSpent, ticket_id), json{{"digest", digest}}.dump() + "\n", 0600);
}

// Reads every <id>.json in dir/sub; fn(id, parsed) may throw with a reason.
template <typename Fn>
static void load_dir(const std::string& dir, const char* sub, Fn&& fn) {
  fs::path d = fs::path(dir) / sub;
  for (const auto& entry : fs::directory_iterator(d)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".")) continue;  // an interrupted atomic write's temp file
    const std::string file = entry.path().string();
    std::string id = name.size() == 37 && name.ends_with(".json") ? name.substr(0, 32) : "";
    if (!is_lower_hex(id, 32))
      throw Error(ErrorKind::validation, file + ": unexpected file in the state directory (expected <32 hex id>.json)");
    json j;
    try {
      j = json::parse(read_file(file, 1 << 20));
      if (!j.is_object()) throw std::runtime_error("not a JSON object");
      fn(id, j);
    } catch (const Error& e) {
      throw Error(ErrorKind::validation, file + ": corrupted state file: " + e.what());
    } catch (const std::exception& e) {
      throw Error(ErrorKind::validation, file + ": corrupted state file: " + e.what());
    }
  }
}

StateSnapshot StateStore::load() const {
  StateSnapshot s;
  load_dir(dir_, kInstalled, [&](const std::string& id, const json& j) {
    InstalledRecord r;
    r.envelope = j.at("envelope").get<std::string>();
    r.installed_at = j.at("installed_at").get<std::int64_t>();
    if (!j.at("uses_left").is_null()) r.uses_left = j.at("uses_left").get<std::int64_t>();
    if (j.contains("seal")) r.seal = j.at("seal").get<std::string>();
    if (j.contains("fleet_key")) r.fleet_key = j.at("fleet_key").get<std::string>();
    s.installed.emplace(id, std::move(r));
  });
  load_dir(dir_, kTombstones, [&](const std::string& id, const json& j) {
    s.tombstones.emplace(id, j.at("revocation").get<std::string>());
  });
  load_dir(dir_, kSpent, [&](const std::string& id, const json& j) {
    s.spent.emplace(id, j.at("digest").get<std::string>());
  });
  return s;
}

}  // namespace execgate
