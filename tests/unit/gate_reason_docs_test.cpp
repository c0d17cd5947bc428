// Every reason the kernel records (bpf/names.h, EG_REASONS) is documented: named as a
// code span in docs/daemon.md's reason section or, for the exec decision's reasons (the
// brief's list), in docs/gate.md's "Decision on exec".
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gate/gate.h"
#include "gate/kernel_abi.h"

namespace execgate {
namespace {

std::string read_doc(const std::string& rel) {
  std::ifstream in(std::string(EXECGATE_SOURCE_DIR) + "/" + rel);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The text of the "## " section whose heading starts with `heading`, up to the next "## ".
std::string section(const std::string& doc, const std::string& heading) {
  std::istringstream in(doc);
  std::string line, text;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      if (inside) break;
      inside = line.rfind("## " + heading, 0) == 0;
      continue;
    }
    if (inside) text += line + "\n";
  }
  return text;
}

// Code spans (`...`) of a Markdown text.
std::set<std::string> code_spans(const std::string& text) {
  std::set<std::string> spans;
  std::size_t pos = 0;
  while ((pos = text.find('`', pos)) != std::string::npos) {
    std::size_t end = text.find('`', pos + 1);
    if (end == std::string::npos) break;
    spans.insert(text.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return spans;
}

struct DocSection {
  const char* file;
  const char* heading;
};
constexpr DocSection kReasonSections[] = {
    {"docs/daemon.md", "Reason names"},
    {"docs/gate.md", "Decision on exec"},
};

TEST(ReasonDocs, ListsCoverEveryCode) {
  const std::vector<std::string> names = reason_names();
  std::size_t known = 0;
  for (unsigned code = 0; code < 256; code++) known += reason_name(static_cast<std::uint8_t>(code)) != "unknown";
  EXPECT_EQ(names.size(), known);
  std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), names.size()) << "two reasons share a name";
  EXPECT_EQ(reason_name(EG_R_TICKET), "ticket");
  EXPECT_EQ(reason_name(EG_R_PRIVILEGE), "privilege");
  EXPECT_EQ(reason_name(0), "unknown");
  for (const std::string& name : names) EXPECT_NE(name, "unknown");
}

TEST(ReasonDocs, EveryKernelReasonIsDocumented) {
  std::set<std::string> documented;
  for (const DocSection& s : kReasonSections) {
    const std::string doc = read_doc(s.file);
    ASSERT_FALSE(doc.empty()) << s.file << " not found under " << EXECGATE_SOURCE_DIR;
    const std::string text = section(doc, s.heading);
    ASSERT_FALSE(text.empty()) << s.file << " has no section \"## " << s.heading << "\"";
    const std::set<std::string> spans = code_spans(text);
    documented.insert(spans.begin(), spans.end());
  }
  for (const std::string& name : reason_names())
    EXPECT_TRUE(documented.count(name))
        << "reason `" << name << "` is not named in docs/daemon.md \"Reason names\" nor in docs/gate.md "
        << "\"Decision on exec\": add a line saying what it means to docs/daemon.md";
}

}  // namespace
}  // namespace execgate
