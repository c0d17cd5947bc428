// No name is spelled outside its list: every reason, verdict, hook and event name (and the
// daemon's refusal and record reasons) is written once, in bpf/names.h, and reached through
// include/execgate/names.h. This scans the C++ sources of userspace/ and include/ for a
// string literal that is such a name ("no_ticket") or holds one as a JSON string
// ("\"event\":\"exec\"") and fails naming file:line. Comments are not looked at.
//
// Not a name: a JSON key (r["ticket"], {"ticket", id}, "\"ticket\":"), and the entries of
// kAllowed below, each a word that happens to be spelled like a name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "execgate/names.h"

namespace execgate {
namespace {
namespace fs = std::filesystem;

struct Allowed {
  const char* file;  // relative to the source tree
  const char* name;
  const char* why;   // what the literal is, since it is not the name
};
constexpr Allowed kAllowed[] = {
    {"userspace/gate/bpf_gate.cpp", "bpf", "the LSM's name in /sys/kernel/security/lsm, not the hook"},
    {"userspace/policy/policy.cpp", "allow", "the policy's [scope] allow key, not the verdict"},
    {"userspace/policy/policy.cpp", "mount", "a value of the policy's [scope] allow, not the hook"},
    {"userspace/policy/policy.cpp", "module_request", "a value of the policy's [scope] allow, not the hook"},
    {"userspace/policy/policy.cpp", "baseline", "the policy's [baseline] table, not the reason"},
    {"userspace/ticket/body.cpp", "revoked", "the revocation body's field, not the refusal reason"},
    {"userspace/daemon/ticket_book.cpp", "revoked", "the control API's result of a revocation, not the reason"},
    {"userspace/cli/daemon_verbs.cpp", "revoked", "the control API's result of a revocation, not the reason"},
    {"userspace/cli/ticket_show.cpp", "ticket", "the kind of a document (ticket or revocation), not the reason"},
    {"userspace/cli/audit_verbs.cpp", "ticket", "the record's field, read by a helper"},
    {"userspace/daemon/state_history.cpp", "ticket", "the record's field, read with contains()"},
    {"userspace/audit/writer.cpp", "ticket", "the record's field in the list of an exec record's fields"},
    {"userspace/audit/writer.cpp", "lineage", "the record's field in the list of an exec record's fields"},
    {"userspace/rollout/suggest.cpp", "exec", "the English word counted in \"3 execs\", not the event"},
    {"userspace/policy/policy.cpp", "fleet", "the policy's [fleet] table, not the event"},
    {"userspace/cli/fleet_verbs.cpp", "fleet", "the CLI's fleet verb, not the event"},
    {"userspace/cli/fleet_verbs.cpp", "ticket", "the kind of a published document (ticket or revocation), not the reason"},
    {"userspace/fleet/etcd_json.cpp", "deleted", "etcd's delete response field, not the record reason"},
    {"userspace/fleet/statements.cpp", "silent", "the acknowledgement's field, not the fleet record's reason"},
};

struct Literal {
  std::size_t line = 0;
  std::string text;      // unescaped (\" and \\ only)
  char before = 0;       // the first character before it that is not a space
  char after = 0;        // the first one after it that is not a space
  char after_next = 0;   // and the one after that
};

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The string literals of a C++ source, comments skipped.
std::vector<Literal> string_literals(const std::string& src) {
  std::vector<Literal> out;
  std::vector<std::size_t> ends;  // where each literal ends (one past)
  std::vector<std::size_t> starts;
  std::size_t line = 1;
  const std::size_t n = src.size();
  for (std::size_t i = 0; i < n;) {
    const char c = src[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '/' && i + 1 < n && src[i + 1] == '/') {
      while (i < n && src[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && src[i + 1] == '*') {
      i += 2;
      while (i + 1 < n && !(src[i] == '*' && src[i + 1] == '/')) line += src[i++] == '\n';
      i += 2;
    } else if (c == 'R' && i + 1 < n && src[i + 1] == '"' &&
               (i == 0 || !ident_char(src[i - 1]) || src[i - 1] == '8' || src[i - 1] == 'u' || src[i - 1] == 'U' ||
                src[i - 1] == 'L')) {
      const std::size_t open = src.find('(', i + 2);
      const std::string close = ")" + src.substr(i + 2, open - i - 2) + "\"";
      const std::size_t end = src.find(close, open);
      Literal l;
      l.line = line;
      l.text = src.substr(open + 1, end - open - 1);
      line += static_cast<std::size_t>(std::count(l.text.begin(), l.text.end(), '\n'));
      starts.push_back(i);
      ends.push_back(end + close.size());
      out.push_back(std::move(l));
      i = end + close.size();
    } else if (c == '"') {
      Literal l;
      l.line = line;
      std::size_t j = i + 1;
      for (; j < n && src[j] != '"'; ++j) {
        if (src[j] == '\\' && j + 1 < n && (src[j + 1] == '"' || src[j + 1] == '\\')) {
          l.text += src[++j];
        } else {
          l.text += src[j];
        }
      }
      starts.push_back(i);
      ends.push_back(j + 1);
      out.push_back(std::move(l));
      i = j + 1;
    } else if (c == '\'' && !(i > 0 && ident_char(src[i - 1]))) {  // a character; after a digit: a separator
      std::size_t j = i + 1;
      for (; j < n && src[j] != '\''; ++j)
        if (src[j] == '\\') ++j;
      i = j + 1;
    } else {
      ++i;
    }
  }
  auto skip_space = [&](std::size_t p) {
    while (p < n && std::isspace(static_cast<unsigned char>(src[p]))) ++p;
    return p;
  };
  for (std::size_t k = 0; k < out.size(); ++k) {
    std::size_t b = starts[k];
    while (b > 0 && std::isspace(static_cast<unsigned char>(src[b - 1]))) --b;
    out[k].before = b > 0 ? src[b - 1] : 0;
    const std::size_t a = skip_space(ends[k]);
    out[k].after = a < n ? src[a] : 0;
    const std::size_t a2 = a < n ? skip_space(a + 1) : n;
    out[k].after_next = a2 < n ? src[a2] : 0;
  }
  return out;
}

// A literal in a JSON key's place: j["key"], or {"key", value} (not a list {"a", "b"}).
bool key_position(const Literal& l) {
  return (l.before == '[' && l.after == ']') || (l.before == '{' && l.after == ',' && l.after_next != '"');
}

// The names the literal spells: all of it, or a JSON string inside it that is not a key.
std::vector<std::string> names_in(const Literal& l, const std::set<std::string>& names) {
  std::vector<std::string> found;
  if (names.count(l.text)) {
    if (!key_position(l)) found.push_back(l.text);
    return found;
  }
  std::vector<std::pair<std::size_t, std::string>> at;  // in the order they appear
  for (const std::string& name : names) {
    const std::string quoted = "\"" + name + "\"";
    for (std::size_t q = l.text.find(quoted); q != std::string::npos; q = l.text.find(quoted, q + 1)) {
      const std::size_t end = q + quoted.size();
      if (end < l.text.size() && l.text[end] == ':') continue;  // "key":
      at.emplace_back(q, name);
    }
  }
  std::sort(at.begin(), at.end());
  for (auto& [pos, name] : at) found.push_back(std::move(name));
  return found;
}

template <class E>
void add_names(std::set<std::string>& names) {
  for (const auto& e : all_names<E>()) names.emplace(e.name);
}

TEST(NameLiterals, NoNameIsSpelledOutsideItsList) {
  std::set<std::string> names;
  add_names<Verdict>(names);
  add_names<Reason>(names);
  add_names<Hook>(names);
  add_names<EventKind>(names);
  add_names<RefusalReason>(names);
  add_names<RecordReason>(names);

  const fs::path root(EXECGATE_SOURCE_DIR);
  std::vector<fs::path> files;
  for (const char* dir : {"userspace", "include"})
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".cpp" || ext == ".h")) files.push_back(entry.path());
    }
  ASSERT_GT(files.size(), 50u) << "the sources were not found under " << root;
  std::sort(files.begin(), files.end());

  std::map<std::pair<std::string, std::string>, unsigned> allowed_used;
  for (const Allowed& a : kAllowed) allowed_used[{a.file, a.name}] = 0;
  std::ostringstream found;
  unsigned count = 0;
  for (const fs::path& file : files) {
    const std::string rel = fs::relative(file, root).generic_string();
    if (rel == "include/execgate/names.h") continue;  // the lists' C++ face
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    for (const Literal& l : string_literals(text.str()))
      for (const std::string& name : names_in(l, names)) {
        auto it = allowed_used.find({rel, name});
        if (it != allowed_used.end()) {
          ++it->second;
          continue;
        }
        ++count;
        found << "  " << rel << ":" << l.line << ": \"" << name << "\"\n";
      }
  }
  EXPECT_EQ(count, 0u) << "names spelled as string literals: use include/execgate/names.h (name(Reason::...), "
                          "parse_reason, ...), or, for a word that only looks like a name, add it to kAllowed "
                          "saying what it is:\n"
                       << found.str();
  for (const auto& [key, used] : allowed_used)
    EXPECT_GT(used, 0u) << "kAllowed: " << key.first << " has no \"" << key.second << "\" any more: remove the entry";
}

// The scanner itself: what it finds and what it leaves.
TEST(NameLiterals, ScannerFindsNamesNotKeysNorComments) {
  const std::set<std::string> names = {"exec", "ticket", "deny"};
  const std::string src =
      "// \"exec\" in a comment\n"
      "/* \"deny\" */ int n = 1'000'000;\n"
      "r[\"ticket\"] = x; j = {{\"ticket\", id}};\n"  // keys
      "if (v == \"deny\") f(\"\\\"event\\\":\\\"exec\\\"\");\n"
      "auto k = R\"(\"ticket\":\")\"; char q = '\"'; auto l = {\"exec\", \"deny\"};\n";
  std::vector<std::pair<std::size_t, std::string>> hits;
  for (const Literal& l : string_literals(src))
    for (const std::string& name : names_in(l, names)) hits.emplace_back(l.line, name);
  const std::vector<std::pair<std::size_t, std::string>> expected = {
      {4, "deny"}, {4, "exec"}, {5, "exec"}, {5, "deny"}};
  EXPECT_EQ(hits, expected);
}

}  // namespace
}  // namespace execgate
