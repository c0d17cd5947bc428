// The spool against a hostile inbox (the gated scope may write there): execgated never
// follows a symlink planted in it, never reads a file that is not a regular file of its
// own with one link, never blocks, and never re-judges an entry forever.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/fs.h"
#include "spool.h"

namespace fs = std::filesystem;
using execgate::Spool;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

bool is_link(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/eg-spool-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    inbox_ = root_ / "inbox";
    outside_ = root_ / "outside";  // stands for /etc: nothing may appear there
    for (const auto& d : {inbox_, inbox_ / "done", inbox_ / "rejected", outside_}) fs::create_directories(d);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  // "ok..." installs, "bad..." is refused, anything else throws (a malformed envelope)
  Spool make() {
    return Spool(inbox_.string(), [this](const std::string& body, const std::string& source) {
      calls_.push_back(source + "=" + body);
      if (body.starts_with("ok")) return nlohmann::json{{"result", "installed"}};
      if (body.starts_with("bad"))
        return nlohmann::json{{"result", "refused"}, {"reason", "bad_signature"}, {"detail", "no issuer"}};
      throw std::runtime_error("not an envelope");
    });
  }
  // drain() with a deadline: a blocked read ends the test binary (SIGALRM) instead of hanging it
  bool drain(Spool& s) {
    ::alarm(10);
    const bool more = s.drain();
    ::alarm(0);
    return more;
  }
  bool outside_empty() const { return fs::is_empty(outside_); }

  fs::path root_, inbox_, outside_;
  std::vector<std::string> calls_;
};

TEST_F(SpoolTest, TicketGoesToDone) {
  put(inbox_ / "t1.json", "ok 1");
  auto s = make();
  EXPECT_FALSE(drain(s));
  EXPECT_EQ(calls_, std::vector<std::string>{"spool:t1.json=ok 1"});
  EXPECT_EQ(slurp(inbox_ / "done" / "t1.json"), "ok 1");
  EXPECT_FALSE(fs::exists(inbox_ / "t1.json"));
}

TEST_F(SpoolTest, RefusedGoesToRejectedWithReason) {
  put(inbox_ / "t2.json", "bad");
  auto s = make();
  drain(s);
  EXPECT_TRUE(fs::exists(inbox_ / "rejected" / "t2.json"));
  EXPECT_EQ(slurp(inbox_ / "rejected" / "t2.json.reason"), "bad_signature: no issuer\n");
}

TEST_F(SpoolTest, TempNamesAreSkipped) {
  put(inbox_ / ".t3.json.tmp", "ok");
  auto s = make();
  drain(s);
  EXPECT_TRUE(calls_.empty());
  EXPECT_TRUE(fs::exists(inbox_ / ".t3.json.tmp"));
}

// The attack: rejected -> /etc, then a malformed ld.so.preload dropped in the inbox.
TEST_F(SpoolTest, SymlinkedRejectedIsReplacedNeverFollowed) {
  fs::remove(inbox_ / "rejected");
  fs::create_directory_symlink(outside_, inbox_ / "rejected");
  put(inbox_ / "ld.so.preload", "/tmp/evil.so");
  auto s = make();
  drain(s);
  EXPECT_TRUE(outside_empty());
  EXPECT_FALSE(is_link(inbox_ / "rejected"));
  EXPECT_TRUE(fs::is_directory(inbox_ / "rejected"));
  EXPECT_EQ(slurp(inbox_ / "rejected" / "ld.so.preload"), "/tmp/evil.so");  // still handled
  EXPECT_EQ(slurp(inbox_ / "rejected" / "ld.so.preload.reason"), "malformed: not an envelope\n");
  EXPECT_FALSE(fs::exists(inbox_ / "ld.so.preload"));
}

TEST_F(SpoolTest, SymlinkedDoneIsReplacedNeverFollowed) {
  fs::remove(inbox_ / "done");
  fs::create_directory_symlink(outside_, inbox_ / "done");
  put(inbox_ / "policy.toml", "ok");
  auto s = make();
  drain(s);
  EXPECT_TRUE(outside_empty());
  EXPECT_EQ(slurp(inbox_ / "done" / "policy.toml"), "ok");
}

TEST_F(SpoolTest, FileInPlaceOfRejectedIsReplaced) {
  fs::remove(inbox_ / "rejected");
  put(inbox_ / "rejected", "x");
  put(inbox_ / "t.json", "bad");
  auto s = make();
  drain(s);
  EXPECT_TRUE(fs::is_directory(inbox_ / "rejected"));
  EXPECT_TRUE(fs::exists(inbox_ / "rejected" / "t.json.reason"));
}

// Swapped after the daemon opened them: its directory fds still name its own directories.
TEST_F(SpoolTest, SwapAfterOpenIsNotFollowed) {
  auto s = make();
  fs::rename(inbox_ / "rejected", root_ / "rejected-aside");
  fs::create_directory_symlink(outside_, inbox_ / "rejected");
  put(inbox_ / "ld.so.preload", "junk");
  drain(s);
  EXPECT_TRUE(outside_empty());
  EXPECT_TRUE(fs::exists(root_ / "rejected-aside" / "ld.so.preload"));
  EXPECT_TRUE(fs::exists(root_ / "rejected-aside" / "ld.so.preload.reason"));
}

TEST_F(SpoolTest, SymlinkEntryIsRejectedUnread) {
  put(outside_ / "secret", "ok secret");
  fs::create_symlink(outside_ / "secret", inbox_ / "link.json");
  auto s = make();
  drain(s);
  EXPECT_TRUE(calls_.empty());
  EXPECT_TRUE(is_link(inbox_ / "rejected" / "link.json"));  // the link moved, not its target
  EXPECT_EQ(slurp(outside_ / "secret"), "ok secret");
  EXPECT_EQ(slurp(inbox_ / "rejected" / "link.json.reason"), "malformed: a symlink\n");
}

TEST_F(SpoolTest, FifoDoesNotBlock) {
  ASSERT_EQ(::mkfifo((inbox_ / "pipe").c_str(), 0600), 0);
  auto s = make();
  drain(s);  // SIGALRM after 10 s if it blocks
  EXPECT_TRUE(calls_.empty());
  EXPECT_EQ(slurp(inbox_ / "rejected" / "pipe.reason"), "malformed: a FIFO\n");
  EXPECT_FALSE(fs::exists(inbox_ / "pipe"));
}

TEST_F(SpoolTest, HardLinkIsRefused) {
  put(outside_ / "shadow", "ok root:hash");
  ASSERT_EQ(::link((outside_ / "shadow").c_str(), (inbox_ / "shadow").c_str()), 0);
  auto s = make();
  drain(s);
  EXPECT_TRUE(calls_.empty());
  EXPECT_NE(slurp(inbox_ / "rejected" / "shadow.reason").find("2 links"), std::string::npos);
  EXPECT_EQ(slurp(outside_ / "shadow"), "ok root:hash");
}

TEST_F(SpoolTest, OversizeIsMalformed) {
  put(inbox_ / "big.json", "ok" + std::string(Spool::kMaxBytes, 'x'));
  auto s = make();
  drain(s);
  EXPECT_TRUE(calls_.empty());
  EXPECT_EQ(slurp(inbox_ / "rejected" / "big.json.reason").rfind("malformed: file is ", 0), 0u);
}

TEST_F(SpoolTest, DirectoryEntryIsRejected) {
  fs::create_directory(inbox_ / "sub");
  auto s = make();
  drain(s);
  EXPECT_TRUE(calls_.empty());
  EXPECT_TRUE(fs::is_directory(inbox_ / "rejected" / "sub"));
}

TEST_F(SpoolTest, NameTakenInDoneIsNotReplaced) {
  put(inbox_ / "done" / "t.json", "ok first");
  put(inbox_ / "t.json", "ok second");
  auto s = make();
  drain(s);
  EXPECT_EQ(slurp(inbox_ / "done" / "t.json"), "ok first");
  EXPECT_FALSE(fs::exists(inbox_ / "t.json"));
  int second = 0;
  for (const auto& e : fs::directory_iterator(inbox_ / "done"))
    if (e.path().filename().string().starts_with("t.json.") && slurp(e.path()) == "ok second") ++second;
  EXPECT_EQ(second, 1);
}

TEST_F(SpoolTest, FloodIsHandledInBoundedPasses) {
  for (int i = 0; i < 100; ++i) put(inbox_ / ("f" + std::to_string(i)), "ok");
  auto s = make();
  EXPECT_TRUE(drain(s));
  EXPECT_EQ(calls_.size(), Spool::kMaxPerDrain);
  int passes = 1;
  while (drain(s)) ++passes;
  EXPECT_EQ(calls_.size(), 100u);
  EXPECT_LE(passes, 4);
}

}  // namespace
