#include "rollout/simulate.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <sstream>

#include "common/encoding.h"
#include "common/fs.h"
#include "common/text.h"
#include "gate/kernel_values.h"
#include "execgate/names.h"
#include "execgate/ticket_errors.h"
#include "ticket/refusal.h"
#include "ticket/trusted_issuers.h"
#include "ticket/ticket_rank.h"

namespace execgate {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string str(const json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Unix seconds as wall-clock ns, saturating (the simulation judges entries on the wall
// clock: its now is one too).
std::uint64_t wall_ns(std::int64_t unix_seconds) {
  constexpr std::int64_t kMaxSec = std::numeric_limits<std::int64_t>::max() / 1'000'000'000 - 1;
  if (unix_seconds >= kMaxSec) return std::numeric_limits<std::uint64_t>::max();
  return unix_seconds <= 0 ? 0 : static_cast<std::uint64_t>(unix_seconds) * 1'000'000'000;
}

bool nameless_reason(const std::string& reason) {
  const auto r = parse_reason(reason);
  return r == Reason::memfd || r == Reason::tmpfile || r == Reason::unlinked;
}

}  // namespace

bool path_within(const std::string& path, const std::string& dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

CandidateTickets load_candidate_tickets(const std::string& dir, const Policy& policy, const std::string& machine_id,
                                        std::int64_t now) {
  const std::vector<TrustedIssuer> issuers = load_trusted_issuers(policy);
  const std::vector<PublicKey> keys = issuer_keys(issuers);
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec)) files.push_back(entry.path().string());
  if (ec) throw IoError(dir, ec.value(), "cannot read the tickets directory");
  std::sort(files.begin(), files.end());

  CandidateTickets out;
  std::map<std::string, std::string> revoked;  // ticket id -> revocation file
  std::set<std::string> ids;
  for (const auto& file : files) {
    auto refuse = [&](const std::string& reason, const std::string& detail) {
      out.refused.push_back({file, reason, detail});
    };
    VerifiedDocument doc;
    try {
      doc = verify_document(read_file(file, dsse::kMaxEnvelopeBytes), keys);
    } catch (const VerificationError& e) {
      refuse(to_string(e.refusal()), e.what());
      continue;
    } catch (const Error& e) {
      refuse(to_string(RefusalReason::malformed), e.what());
      continue;
    }
    // verify_document knew the key (a delegated ticket's chain leads to it)
    const IssuerPolicy* issuer = &find_issuer(issuers, doc.issuer_key_id())->policy;
    if (doc.kind == VerifiedDocument::Kind::revocation) {
      for (const auto& id : doc.revocation->revoked) revoked.emplace(id, file);
      continue;
    }
    const TicketBody& t = *doc.ticket;
    auto r = admit_ticket(t, *issuer, machine_id, now);
    if (!r) r = admit_delegated(t, doc.chain, now);
    if (r) {
      refuse(r->name(), r->detail);
      continue;
    }
    if (!ids.insert(t.id).second) {
      refuse(to_string(RefusalReason::replay), "ticket " + t.id + " is also in another file of the directory");
      continue;
    }
    out.usable.push_back({t, file, issuer->name});
  }
  std::erase_if(out.usable, [&](const CandidateTickets::Usable& u) {
    auto it = revoked.find(u.body.id);
    if (it == revoked.end()) return false;
    out.refused.push_back(
        {u.file, to_string(RefusalReason::revoked), "ticket " + u.body.id + " is revoked by " + it->second});
    return true;
  });
  return out;
}

std::string file_label(const json& r) {
  return str(r, "path") + " (dev " + str(r, "dev") + ", inode " + std::to_string(r.value("ino", std::uint64_t{0})) + ")";
}

std::string FileNames::resolve(const json& r) {
  const std::string path = str(r, "path");
  const auto ino = r.find("ino");
  const std::string key = ino != r.end() && ino->is_number_unsigned()
                              ? str(r, "dev") + "/" + std::to_string(ino->get<std::uint64_t>())
                              : std::string();
  if (!path.empty() && path[0] == '/') {
    if (!key.empty()) by_inode_[key] = path;
    return path;
  }
  const auto it = key.empty() ? by_inode_.end() : by_inode_.find(key);
  return it == by_inode_.end() ? std::string() : it->second;
}

void RefusalGroup::add(const json& r, const std::string& reason) {
  ++count;
  const std::string hook = str(r, "hook");
  if (hook == name(Hook::mmap_exec) || hook == name(Hook::mprotect_exec)) ++mappings;
  ++reasons[reason];
  if (comms.size() < kSample) comms.insert(str(r, "comm"));
  if (hooks.size() < kSample) hooks.insert(str(r, "hook"));
  if (uids.size() < kSample && r.contains("uid") && r["uid"].is_number_unsigned()) uids.insert(r["uid"].get<std::uint32_t>());
  const std::string time = str(r, "time");
  if (first_time.empty()) first_time = time;
  last_time = time;
}

json RefusalGroup::to_json() const {
  return {{"count", count},        {"mappings", mappings},     {"reasons", reasons},       {"comms", comms},     {"hooks", hooks},
          {"uids", uids},          {"first_time", first_time}, {"last_time", last_time},
          {"on_host", on_host},    {"detail", detail}};
}

Simulator::Simulator(const Policy& candidate, std::vector<CandidateTickets::Usable> tickets, const HostView& host,
                     std::int64_t now)
    : policy_(candidate), tickets_(std::move(tickets)), host_(host), now_(now) {
  for (const auto& p : policy_.baseline_paths) baseline_.push_back(host_.canonical(p));
  native_.set_trust_root_owned(policy_.trust == BaselineTrust::root_owned);
  native_.set_now(wall_ns(now_));
  report_.mode = to_string(policy_.mode);
}

bool Simulator::in_scope(const json& r) {
  if (policy_.scope_host) return true;
  const auto it = r.find("cgroup");
  const auto path = it != r.end() && it->is_number_unsigned() ? host_.cgroup_path(it->get<std::uint64_t>()) : std::nullopt;
  if (!path) {
    ++report_.scope_unknown;  // a job's cgroup that is gone: judged (over-reporting is the safe side)
    return true;
  }
  return std::any_of(policy_.scope_cgroups.begin(), policy_.scope_cgroups.end(),
                     [&](const std::string& c) { return path_within(*path, c); });
}

const CandidateTickets::Usable* Simulator::holder(const std::string& canonical_path, bool on_host,
                                                  std::string* mismatch) const {
  const CandidateTickets::Usable* best = nullptr;
  for (const auto& t : tickets_)
    for (const auto& s : t.body.subjects) {
      if (!s.path || host_.canonical(*s.path) != canonical_path) continue;
      if (on_host) {
        // the daemon would refuse it at submit (digest_mismatch): it holds no entry
        if (auto digest = host_.sha256(canonical_path); digest && *digest != hex_encode(s.sha256)) {
          *mismatch = "ticket " + t.body.id + " (" + t.file + ") is for other bytes: digest_mismatch at submit";
          continue;
        }
      }
      if (!best || outranks({t.body.id, t.body.not_before, t.body.not_after},
                            {best->body.id, best->body.not_before, best->body.not_after}, now_))
        best = &t;
    }
  return best;
}

bool Simulator::baseline_covers(const std::string& canonical_path, const std::optional<HostFile>& file) const {
  for (const auto& b : baseline_)
    if (path_within(canonical_path, b)) return !file || file->root_only_writable();  // missing here: by its path
  return false;
}

// A file with no name (the record's nameless reason): as the kernel sees it, so that the
// kernel's decision says which it is.
NativeFile Simulator::nameless_file(const std::string& recorded) {
  NativeFile f;
  f.dev = 0;
  f.ino = ++nameless_;
  f.nlink = 0;
  f.kernel_mount = recorded != name(Reason::tmpfile) && recorded != name(Reason::unlinked);
  f.name = recorded == name(Reason::tmpfile) ? "#" + std::to_string(f.ino) : "file";
  return f;
}

// The file at CANON as the kernel would see it, and its entries as the daemon would install
// them (once per file: the ticket that holds it, its baseline pin, the loader mark).
NativeFile Simulator::prepare(const std::string& canon, const std::optional<HostFile>& file, bool loader,
                              std::string* mismatch, const CandidateTickets::Usable** ticket) {
  auto [it, fresh] = files_.try_emplace(canon, Prepared{});
  Prepared& p = it->second;
  if (fresh) {
    p.file.dev = 1;  // one device: a key per path
    p.file.ino = files_.size();
    p.file.name = canon;
    // a file not on this host is judged by its path: never trusted for its owner or mode
    p.file.owner = file ? file->uid : 65534;
    p.file.mode = file ? file->mode : 0100777;
    p.ticket = holder(canon, file.has_value(), &p.mismatch);
    if (p.ticket) native_.add_ticket(p.file, ticket_entry(p.ticket->body, wall_ns));
    if (baseline_covers(canon, file)) native_.pin_baseline(p.file);
  }
  if (loader && !p.loader) {  // the log says the kernel knows it as the loader
    native_.add_loader(p.file);
    p.loader = true;
  }
  *mismatch = p.mismatch;
  *ticket = p.ticket;
  return p.file;
}


// The kernel's decision (userspace/decision: bpf/lib/decision.h compiled natively) on the
// recorded exec or executable mapping, with the candidate's tickets and baseline.
Simulator::Verdict Simulator::judge_exec(const json& r) {
  const std::string recorded = str(r, "reason");
  const std::string hook = str(r, "hook");
  // execs (and AT_EXECVE_CHECK) spend uses and are judged for lineage; mappings are not
  const bool exec = hook == name(Hook::exec) || hook == name(Hook::exec_check);
  const auto pid = r.value("pid", std::uint32_t{0}), ppid = r.value("ppid", std::uint32_t{0});
  const auto uid = r.value("uid", std::uint32_t{0});
  if (nameless_reason(recorded) || (str(r, "path").empty() && !r.contains("ino"))) {
    const NativeFile f = nameless_file(recorded);
    const NativeVerdict v = exec ? native_.decide(f, uid, std::nullopt, true, true) : native_.decide_mapping(f, uid, false);
    return {v.allowed, std::string(name(static_cast<Reason>(v.reason))),
            "a file no directory names never runs in the scope", "", ""};
  }
  const std::string path = names_.resolve(r);
  if (path.empty())  // a mapping of a file no earlier record named by its path
    return {false, to_string(exec ? Reason::no_ticket : Reason::loader_bypass),
            "the kernel named it only \"" + str(r, "path") + "\" and no earlier record gave its path: not judged", "",
            file_label(r)};
  const std::string canon = host_.canonical(path);
  const auto file = host_.stat(canon);
  if (!file) not_on_host_.insert(canon);
  std::string mismatch;
  const CandidateTickets::Usable* t = nullptr;
  const NativeFile f = prepare(canon, file, exec && recorded == name(Reason::loader_bypass), &mismatch, &t);

  NativeVerdict v;
  if (exec) {
    // the caller's image: its own last exec, else what it inherited from its parent
    auto img = images_.find(pid);
    if (img == images_.end()) img = images_.find(ppid);
    std::optional<TicketId> caller;
    if (img != images_.end() && img->second.ticket) caller = img->second.ticket;
    v = native_.decide(f, uid, caller, true, true);
    if (v.allowed) images_[pid] = Image{canon, v.reason == static_cast<std::uint8_t>(Reason::ticket)
                                                   ? std::optional<TicketId>(v.ticket)
                                                   : std::nullopt};
  } else {
    const auto img = images_.find(pid);
    v = native_.decide_mapping(f, uid, img != images_.end() && img->second.path == canon);
  }
  const std::string reason(name(static_cast<Reason>(v.reason)));
  const std::string id = v.has_ticket ? hex_id(v.ticket) : std::string();
  if (v.allowed) return {true, reason, "", id, path};
  std::string detail = mismatch;
  if (v.has_ticket && t) detail = "ticket " + t->body.id + " (" + t->file + "): " + reason;
  else if (recorded == name(Reason::loader_bypass) && v.reason == static_cast<std::uint8_t>(Reason::loader_bypass))
    detail = "the dynamic loader run as a program: never by the baseline";
  return {false, reason, detail, id, path};
}

Simulator::Verdict Simulator::judge_operation(const json& r) const {
  const std::string hook = str(r, "hook");
  auto allowed_op = [&](ScopeAllow op) { return (policy_.scope_allow & static_cast<std::uint32_t>(op)) != 0; };
  bool allowed = false;
  if (hook == name(Hook::capable)) {
    const auto cap = capability_number(str(r, "capability"));
    allowed = cap && *cap < 64 && ((policy_.scope_capabilities >> *cap) & 1);
  } else if (hook == name(Hook::mount)) {
    allowed = allowed_op(ScopeAllow::mount);
  } else if (hook == name(Hook::userns_create)) {
    allowed = allowed_op(ScopeAllow::userns);
  } else if (hook == name(Hook::module_request)) {
    allowed = allowed_op(ScopeAllow::module_request);
  }
  return {allowed, allowed ? "" : str(r, "reason"), "", "", ""};
}

void Simulator::record(const json& r) {
  const std::string event = str(r, "event");
  if (event != name(EventKind::exec) && event != name(EventKind::access)) return;
  if (!in_scope(r)) {
    ++report_.outside_scope;
    return;
  }
  if (event == name(EventKind::access)) {
    ++report_.operations;
    const Verdict v = judge_operation(r);
    if (v.allowed) return;
    ++report_.operations_refused;
    const std::string hook = str(r, "hook");
    report_.operations_by[hook == name(Hook::capable) ? hook + " " + str(r, "capability") : hook].add(r, v.reason);
    return;
  }
  ++report_.execs;
  if (str(r, "verdict") == name(execgate::Verdict::deny)) ++report_.enforce_denials;
  const Verdict v = judge_exec(r);
  if (v.allowed) {
    ++(v.reason == name(Reason::ticket) ? report_.allowed_ticket : report_.allowed_baseline);
    return;
  }
  ++report_.refused;
  RefusalGroup& g = report_.files[v.file];
  g.add(r, v.reason);
  if (!v.file.empty() && v.file[0] == '/') g.on_host = host_.stat(host_.canonical(v.file)).has_value();
  else if (!v.file.empty()) g.on_host = false;
  if (!v.detail.empty()) g.detail = v.detail;
}

SimulationReport Simulator::report() const {
  SimulationReport r = report_;
  if (r.enforce_denials)
    r.warnings.push_back(std::to_string(r.enforce_denials) +
                         " exec record(s) were denied by the log's own policy (mode enforce): what those processes "
                         "would have run next is not in the log; simulate on a log recorded in monitor mode");
  if (r.scope_unknown)
    r.warnings.push_back(std::to_string(r.scope_unknown) +
                         " record(s) name a cgroup that no longer exists here: judged as in the candidate's scope");
  if (!not_on_host_.empty())
    r.warnings.push_back(std::to_string(not_on_host_.size()) +
                         " file(s) the log names are not on this host: judged by their path alone (no ticket digest, "
                         "no baseline owner or mode checked)");
  r.warnings.push_back("only what the log's own policy gated was recorded: where the candidate gates more, "
                       "nothing was simulated");
  return r;
}

namespace {

std::vector<std::pair<std::string, const RefusalGroup*>> by_count(const std::map<std::string, RefusalGroup>& m) {
  std::vector<std::pair<std::string, const RefusalGroup*>> v;
  for (const auto& [k, g] : m) v.emplace_back(k, &g);
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second->count > b.second->count; });
  return v;
}

std::string reasons_text(const RefusalGroup& g) {
  if (g.reasons.size() == 1) return g.reasons.begin()->first;
  std::string s;
  for (const auto& [r, n] : g.reasons) s += (s.empty() ? "" : ", ") + r + " " + std::to_string(n);
  return s;
}

}  // namespace

json SimulationReport::to_json() const {
  json files_j = json::array(), ops_j = json::array();
  for (const auto& [path, g] : by_count(files)) {
    json j = g->to_json();
    j["path"] = path.empty() ? json(nullptr) : json(path);
    files_j.push_back(std::move(j));
  }
  for (const auto& [op, g] : by_count(operations_by)) {
    json j = g->to_json();
    j["operation"] = op;
    ops_j.push_back(std::move(j));
  }
  return {{"mode", mode},
          {"would_deny", would_deny()},
          {"execs", execs},
          {"allowed", {{"ticket", allowed_ticket}, {"baseline", allowed_baseline}}},
          {"refused", refused},
          {"outside_scope", outside_scope},
          {"scope_unknown", scope_unknown},
          {"operations", operations},
          {"operations_refused", operations_refused},
          {"enforce_denials", enforce_denials},
          {"files", files_j},
          {"operations_refused_by", ops_j},
          {"warnings", warnings}};
}

std::string SimulationReport::text() const {
  std::ostringstream o;
  const bool monitor = mode != "enforce";
  o << "candidate mode " << mode
    << (monitor ? ": it denies nothing; what follows would be recorded " + to_string(Verdict::monitor_deny) + "\n"
                : std::string("\n"));
  o << execs << " exec record(s) judged: " << allowed_ticket << " allowed by a ticket, " << allowed_baseline
    << " by the baseline, " << refused << (monitor ? " refused" : " denied") << " (" << files.size() << " file(s))";
  if (outside_scope) o << "; " << outside_scope << " record(s) outside the candidate's scope";
  o << "\n" << operations << " other operation(s) the log's policy refused: " << operations_refused
    << " still refused by the candidate\n";
  if (!files.empty()) {
    o << "\n" << (monitor ? "WOULD BE MONITOR_DENY" : "WOULD DENY") << " (execs, by file)\n";
    o << std::left << std::setw(8) << "COUNT" << std::setw(22) << "REASON" << "FILE\n";
    for (const auto& [path, g] : by_count(files)) {
      o << std::setw(8) << g->count << std::setw(21) << reasons_text(*g) << " "
        << (path.empty() ? std::string("(no file: memory, O_TMPFILE or unlinked)") : printable(path))
        << (g->on_host ? "" : "  [not on this host: judged by its path]") << "\n"
        << "        " << (g->count - g->mappings) << " exec(s), " << g->mappings << " mapping(s); comm "
        << printable_join(g->comms, ",") << ", uid " << printable_join(g->uids, ",") << ", " << g->first_time
        << " .. " << g->last_time << "\n";
      if (!g->detail.empty()) o << "        " << printable(g->detail) << "\n";
    }
  }
  if (!operations_by.empty()) {
    o << "\n" << (monitor ? "WOULD BE REFUSED AND RECORDED" : "WOULD REFUSE") << " (other operations)\n";
    o << std::left << std::setw(8) << "COUNT" << std::setw(22) << "REASON" << "OPERATION\n";
    for (const auto& [op, g] : by_count(operations_by))
      o << std::setw(8) << g->count << std::setw(21) << reasons_text(*g) << " " << printable(op) << "  (comm "
        << printable_join(g->comms, ",") << ")\n";
  }
  for (const auto& w : warnings) o << "warning: " << w << "\n";
  o << (would_deny() ? "result: enforcing the candidate would deny what the log recorded (exit 3)\n"
                     : "result: nothing the log recorded would be denied\n");
  return o.str();
}

}  // namespace execgate
