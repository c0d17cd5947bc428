// Every reason the kernel records (bpf/names.h, EG_REASONS) is documented: named as a
// code span in docs/daemon.md's reason section or, for the exec decision's reasons (the
// brief's list), in docs/gate.md's "Decision on exec".
#include <gtest/gtest.h>

#include "doc_text.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gate/gate.h"
#include "gate/kernel_abi.h"

namespace execgate {
namespace {

std::string read_doc(const std::string& rel) { return test::read_doc(EXECGATE_SOURCE_DIR, rel); }
using test::code_spans;
using test::section;

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
