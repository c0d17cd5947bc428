#include "daemon_env.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <fstream>
#include <stdexcept>

#include "common/encoding.h"
#include "common/fs.h"
#include "execgate/names.h"
#include "execgate/ticket.h"
#include "gate/kernel_facts.h"

namespace execgate::test {
namespace fs = std::filesystem;

namespace {

fs::path make_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "execgate-daemon-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

}  // namespace

DaemonEnv::DaemonEnv() : dir(make_temp_dir()), clock(std::time(nullptr)), gate_(std::make_unique<FakeGate>()) {
  for (const char* sub : {"etc", "keys", "log", "files", "run", "metrics"}) fs::create_directories(dir / sub);
  paths.config = (dir / "etc" / "policy.toml").string();
  paths.state_dir = (dir / "state").string();
  paths.socket = (dir / "run" / "control.sock").string();
  paths.pin_dir = (dir / "pins").string();
  paths.machine_id = (dir / "etc" / "machine-id").string();
  std::ofstream(paths.machine_id) << machine_id << "\n";
  policy.name = "test";
  policy.scope_cgroups = {"/ci.slice"};
  policy.audit.path = (dir / "log" / "audit.jsonl").string();
  policy.metrics.textfile = (dir / "metrics" / "execgate.prom").string();
  add_issuer("ops");
  fresh_kernel();
  audit_ = AuditLog::open(audit_options());
}

DaemonEnv::~DaemonEnv() {
  daemon_.reset();
  if (audit_) audit_->close();
  audit_.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

AuditOptions DaemonEnv::audit_options() const {
  AuditOptions o;
  o.path = policy.audit.path;
  o.try_append_only = false;  // no FS_APPEND_FL: the directory is removed afterwards
  o.reserve_bytes = 0;
  o.signing_key_path = policy.audit.signing_key;  // checkpoints when the test names a key
  o.checkpoint_interval = std::chrono::milliseconds(200);
  return o;
}

GateDaemon& DaemonEnv::boot() {
  auto d = std::make_unique<GateDaemon>(policy, paths, *gate_, *audit_, clock, cgroups, job_cgroups);
  d->open_state();
  audit_->append({{"event", name(EventKind::daemon_start)},
                  {"reason", name(RecordReason::fresh)},
                  {"programs", "loaded"},
                  {"state_key", d->state_key_id()},
                  {"detail", "policy " + paths.config + " (unit test)"}});
  d->start();
  daemon_ = std::move(d);
  return *daemon_;
}

void DaemonEnv::shut_down() {
  daemon_.reset();
  audit_->close();
  audit_ = AuditLog::open(audit_options());
}

void DaemonEnv::fresh_kernel() {
  if (daemon_) throw std::logic_error("fresh_kernel() under a running daemon");
  gate_ = std::make_unique<FakeGate>();
  // the kernel judges validity on the test's clock (the daemon converts it the same way)
  gate_->boot_clock = [this] { return wall_to_boot_ns(clock.now()); };
}

const KeyPair& DaemonEnv::add_issuer(const std::string& name) {
  KeyPair kp = generate_keypair();
  const std::string base = (dir / "keys" / name).string();
  save_keypair(kp, base, /*overwrite=*/true);
  IssuerPolicy ip;
  ip.name = name;
  ip.pubkey = base + ".pub";
  policy.issuers.push_back(ip);
  return issuers_[name] = std::move(kp);
}

const KeyPair& DaemonEnv::issuer(const std::string& name) const { return issuers_.at(name); }

std::string DaemonEnv::file_path(const std::string& name) const { return (dir / "files" / name).string(); }

InodeKey DaemonEnv::make_file(const std::string& name, const std::string& content) {
  const std::string path = file_path(name);
  fs::remove(path);
  std::ofstream(path, std::ios::binary) << content;
  return key_of(name);
}

InodeKey DaemonEnv::key_of(const std::string& name) const {
  struct stat st {};
  if (::stat(file_path(name).c_str(), &st) != 0) throw std::runtime_error("no file " + file_path(name));
  return InodeKey{kernel_dev(st.st_dev), st.st_ino};
}

std::string DaemonEnv::issue(const TicketSpec& spec) {
  TicketBody t;
  t.id = new_ticket_id();
  t.issued_at = t.not_before = clock.now() - 10;
  t.not_after = clock.now() + spec.ttl;
  t.max_uses = spec.max_uses;
  t.parent = spec.parent;
  t.hosts = spec.hosts.empty() ? std::vector<std::string>{machine_id} : spec.hosts;
  t.delegation = spec.delegation;
  t.job = spec.job;
  t.builder = spec.builder;
  t.initiator = "unit-test";
  for (const auto& name : spec.files) {
    Subject s;
    s.sha256 = sha256_file(file_path(name));
    s.path = file_path(name);
    t.subjects.push_back(s);
  }
  return sign_ticket(t, spec.signer ? *spec.signer : issuer(spec.issuer).secret);
}

std::string DaemonEnv::revocation(const std::vector<std::string>& ticket_ids, const std::string& issuer_name) {
  RevocationBody r;
  r.id = new_ticket_id();
  r.issued_at = clock.now();
  r.revoked = ticket_ids;
  r.reason = "unit test";
  return sign_revocation(r, issuer(issuer_name).secret);
}

std::string DaemonEnv::id_of(const std::string& envelope) {
  const VerifiedDocument d = parse_document_unverified(envelope);
  return d.ticket ? d.ticket->id : d.revocation->id;
}

std::vector<nlohmann::json> DaemonEnv::audit_records() {
  audit_->flush();
  std::vector<nlohmann::json> out;
  std::ifstream in(policy.audit.path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

nlohmann::json DaemonEnv::submit(const std::string& envelope) { return daemon().submit(envelope, "test"); }

std::string DaemonEnv::holder(const InodeKey& key) const {
  const auto e = gate_->get_ticket(key);
  return e ? hex_id(e->id) : "";
}

bool DaemonEnv::audited(const std::string& event, const std::string& reason, const std::string& ticket_id) {
  for (const auto& r : audit_records())
    if (r.value("event", "") == event && r.value("reason", "") == reason &&
        (ticket_id.empty() || (r.contains("ticket") && r["ticket"] == ticket_id)))
      return true;
  return false;
}

std::vector<std::string> root_owned_files(std::size_t n) {
  std::vector<std::string> out;
  std::set<std::pair<dev_t, ino_t>> seen;
  for (const char* dirname : {"/usr/bin", "/bin", "/usr/sbin"}) {
    std::error_code ec;
    std::vector<fs::path> names;
    for (const auto& e : fs::directory_iterator(dirname, ec)) names.push_back(e.path());
    std::sort(names.begin(), names.end());
    for (const auto& p : names) {
      struct stat st {};
      if (out.size() == n) return out;
      if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
        continue;
      if (seen.insert({st.st_dev, st.st_ino}).second) out.push_back(p.string());
    }
  }
  return out;
}

}  // namespace execgate::test
