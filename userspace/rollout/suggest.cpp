#include "rollout/suggest.h"

#include <filesystem>
#include <sstream>

#include "common/text.h"
#include "execgate/names.h"

namespace execgate {
using nlohmann::json;

namespace {

// The group of mappings whose file no record named by its path: not a reason of the
// kernel's, suggest's own word for what it cannot ticket.
constexpr const char* kUnnamed = "unnamed";

std::string str(const json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A word for a POSIX shell: as it is when it needs no quoting, else in single quotes.
std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                       "0123456789_./+:=,-") == std::string::npos;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// "12 execs, 3 mappings (make, cc), no_ticket, loader_bypass"
std::string seen_text(const RefusalGroup& g, const char* what) {
  auto n = [](std::uint64_t k, const std::string& word) { return std::to_string(k) + " " + word + (k == 1 ? "" : "s"); };
  std::string counted = g.mappings == g.count ? n(g.count, "mapping")
                                              : n(g.count - g.mappings, what) + (g.mappings ? ", " + n(g.mappings, "mapping") : "");
  std::string reasons;
  for (const auto& [r, k] : g.reasons) reasons += (reasons.empty() ? "" : ", ") + r;
  return counted + " (" + printable_join(g.comms, ", ") + "), " + reasons;
}

}  // namespace

bool in_system_directory(const std::string& p) {
  for (const char* dir : {"/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32",
                          "/usr/libexec", "/usr/games", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"})
    if (path_within(p, dir)) return true;
  return false;
}

void Suggester::record(const json& r) {
  const auto event = parse_event(str(r, "event"));
  if (event == EventKind::access) {
    const auto hook = parse_hook(str(r, "hook"));
    if (hook == Hook::capable) s_.posture["capabilities " + str(r, "capability")].add(r, str(r, "reason"));
    else if (hook == Hook::mount) s_.posture["allow mount"].add(r, str(r, "reason"));
    else if (hook == Hook::userns_create) s_.posture["allow userns"].add(r, str(r, "reason"));
    else if (hook == Hook::module_request) s_.posture["allow module_request"].add(r, str(r, "reason"));
    else ++s_.guarded;
    return;
  }
  if (event != EventKind::exec) return;
  const std::string path = names_.resolve(r);  // learnt from allowed records too
  if (parse_verdict(str(r, "verdict")) == Verdict::allow) return;
  const std::string reason = str(r, "reason");
  const auto hook = parse_hook(str(r, "hook"));
  const auto why = parse_reason(reason);
  const bool mapping = hook == Hook::mmap_exec || hook == Hook::mprotect_exec;
  if (why == Reason::memfd || why == Reason::tmpfile || why == Reason::unlinked ||
      (str(r, "path").empty() && !r.contains("ino"))) {
    s_.unfixable[reason.empty() ? to_string(Reason::memfd) : reason].add(r, reason);
    return;
  }
  // the loader run as a program; a mapping's loader_bypass is an unticketed file mapped
  if ((why == Reason::loader_bypass && !mapping) || why == Reason::audit_unavailable) {
    s_.unfixable[reason].add(r, reason);
    return;
  }
  if (path.empty()) {  // a mapping of a file no record named by its path
    RefusalGroup& g = s_.unfixable[kUnnamed];
    g.add(r, reason);
    g.detail = file_label(r);
    return;
  }
  const std::string canon = host_.canonical(path);
  const auto file = host_.stat(canon);
  auto& into = file && file->root_only_writable() && in_system_directory(canon) ? s_.baseline : s_.tickets;
  Suggestion::Entry& e = into[canon];
  e.path = canon;
  e.seen.add(r, reason);
  e.seen.on_host = file.has_value();
}

std::string Suggestion::issue_line(const Entry& e, const SuggestOptions& o, const std::string& out) {
  std::string line = "execgate issue --key " + shell_word(o.key) + " --binary " + shell_word(e.path) + " --host " +
                     shell_word(o.host) + " --ttl " + shell_word(o.ttl);
  if (e.seen.uids.size() < RefusalGroup::kSample)  // then it is every uid seen
    for (auto uid : e.seen.uids) line += " --uid " + std::to_string(uid);
  const std::uint64_t execs = e.seen.count - e.seen.mappings;
  line += " --purpose " + shell_word("execgate suggest: " + std::to_string(execs) + " exec(s)" +
                                     (e.seen.mappings ? ", " + std::to_string(e.seen.mappings) + " mapping(s)" : "") +
                                     " in the audit log");
  return line + " -o " + shell_word(out);
}

json Suggestion::to_json(const SuggestOptions& o) const {
  auto group = [](const std::string& key, const char* name, const RefusalGroup& g) {
    json j = g.to_json();
    j[name] = key;
    return j;
  };
  json baseline_j = json::array(), tickets_j = json::array(), unfixable_j = json::array(), posture_j = json::array();
  for (const auto& [p, e] : baseline) baseline_j.push_back(group(p, "path", e.seen));
  std::set<std::string> names;
  for (const auto& [p, e] : tickets) {
    json j = group(p, "path", e.seen);
    j["command"] = issue_line(e, o, ticket_file_name(p, names));
    tickets_j.push_back(std::move(j));
  }
  for (const auto& [r, g] : unfixable) unfixable_j.push_back(group(r, "reason", g));
  for (const auto& [k, g] : posture) posture_j.push_back(group(k, "setting", g));
  return {{"baseline", baseline_j}, {"tickets", tickets_j},   {"posture", posture_j},
          {"unfixable", unfixable_j}, {"guarded", guarded}, {"host", o.host}, {"ttl", o.ttl}};
}

std::string Suggestion::ticket_file_name(const std::string& path, std::set<std::string>& used) {
  const std::string base = std::filesystem::path(path).filename().string();
  std::string name = base + ".ticket";
  for (int i = 2; !used.insert(name).second; ++i) name = base + "-" + std::to_string(i) + ".ticket";
  return name;
}

std::string Suggestion::text(const SuggestOptions& o) const {
  std::ostringstream out;
  if (baseline.empty() && tickets.empty() && posture.empty() && unfixable.empty()) {
    out << "# nothing to suggest: the log records no exec that was denied or monitor_deny, and no refused "
           "operation a setting would allow\n";
    return out.str();
  }
  if (!baseline.empty()) {
    out << "\n# Baseline: root-owned files in system directories. Add to the policy's [baseline] paths\n"
           "# (pinned as they are when the daemon starts and at each `systemctl reload execgated`):\n"
           "[baseline]\npaths = [\n";
    for (const auto& [p, e] : baseline)
      out << "  " << json(p).dump() << ",  # " << seen_text(e.seen, "exec") << "\n";
    out << "]\n";
  }
  if (!tickets.empty()) {
    out << "\n# Tickets for the other files: sign each with a trusted issuer's key, check it with\n"
           "# `execgate inspect`, then `execgate submit FILE`:\n";
    std::set<std::string> names;
    for (const auto& [p, e] : tickets) {
      out << "# " << printable(p) << ": " << seen_text(e.seen, "exec")
          << (e.seen.on_host ? "" : "; not on this host: run it where the file is") << "\n"
          << issue_line(e, o, ticket_file_name(p, names)) << "\n";
    }
  }
  if (!posture.empty()) {
    out << "\n# Operations the scope's privilege posture refused. Allow in [scope] only what the\n"
           "# workload needs (docs/gate.md \"Privilege posture\"):\n";
    for (const auto& [k, g] : posture) {
      const auto space = k.find(' ');
      out << "#   " << k.substr(0, space) << " = [\"" << printable(k.substr(space + 1)) << "\"]  # "
          << seen_text(g, "refusal") << "\n";
    }
  }
  if (!unfixable.empty() || guarded) {
    out << "\n# Neither a ticket nor the baseline lets these run:\n";
    for (const auto& [r, g] : unfixable) {
      const auto reason = parse_reason(r);
      const std::string why =
          reason == Reason::loader_bypass       ? "the dynamic loader running a file: run the file itself"
          : reason == Reason::audit_unavailable ? "the audit ring buffer was full: raise [audit] ringbuf_kib"
          : r == kUnnamed ? "the kernel named a mapped file only by its name, e.g. " + printable(g.detail) +
                                ": find it (find / -xdev -inum N) and ticket it"
                          : "memory or a file no directory names: write it to a file first";
      out << "#   " << r << ": " << seen_text(g, "exec") << "; " << why << "\n";
    }
    if (guarded)
      out << "#   " << guarded << " other refused operation(s) (write guard, tamper): the gate's protections\n";
  }
  return out.str();
}

}  // namespace execgate
