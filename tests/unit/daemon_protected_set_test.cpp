// protect_path(): what the scope may not rename, remove or write, through symlinks.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "protected_set.h"

namespace execgate {
namespace {
namespace fs = std::filesystem;

InodeKey key(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return InodeKey{kernel_dev(st.st_dev), st.st_ino};
}

class ProtectedSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("eg-prot-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "usr/sbin");
    fs::create_directories(root_ / "usr/bin");
    std::ofstream(root_ / "usr/bin/kmod") << "x";
    fs::create_symlink("usr/sbin", root_ / "sbin");            // usrmerge: /sbin -> usr/sbin
    fs::create_symlink("../bin/kmod", root_ / "usr/sbin/modprobe");  // modprobe -> ../bin/kmod
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(ProtectedSetTest, FollowsEverySymlinkToTheFileAndProtectsEachStep) {
  ProtectedSet set;
  protect_path(set, (root_ / "sbin/modprobe").string(), protect::content);
  EXPECT_EQ(set.at(key(root_ / "usr/bin/kmod")), protect::content | protect::name);
  EXPECT_EQ(set.at(key(root_ / "sbin")), protect::name);                // the link itself
  EXPECT_EQ(set.at(key(root_ / "usr/sbin/modprobe")), protect::name);   // the second link
  EXPECT_EQ(set.at(key(root_ / "usr/sbin")), protect::name);            // where the first points
  EXPECT_EQ(set.at(key(root_ / "usr/bin")), protect::name);             // where the second points
  EXPECT_EQ(set.at(key(root_)), protect::name);                         // every ancestor
  EXPECT_EQ(set.at(key("/")), protect::name);
}

TEST_F(ProtectedSetTest, DirectoryFlagsOnTheLeafOnly) {
  ProtectedSet set;
  fs::create_directories(root_ / "var/lib/execgate");
  protect_path(set, (root_ / "var/lib/execgate").string(), protect::dir | protect::name);
  EXPECT_EQ(set.at(key(root_ / "var/lib/execgate")), protect::dir | protect::name);
  EXPECT_EQ(set.at(key(root_ / "var/lib")), protect::name);
  EXPECT_EQ(set.at(key(root_ / "var")), protect::name);
}

TEST_F(ProtectedSetTest, MissingPathProtectsItsExistingAncestorsAndReservesItsName) {
  ProtectedSet set;
  ReservedNames reserved;
  protect_path(set, (root_ / "sbin/request-key").string(), protect::content, &reserved);
  EXPECT_EQ(set.at(key(root_ / "usr/sbin")), protect::name);
  EXPECT_EQ(set.at(key(root_)), protect::name);
  EXPECT_FALSE(set.count(key(root_ / "usr/bin/kmod")));
  // reserved in the directory the name would be created in: through the /sbin link
  EXPECT_EQ(reserved, (ReservedNames{{key(root_ / "usr/sbin"), "request-key"}}));
  ReservedNames existing;
  protect_path(set, (root_ / "sbin/modprobe").string(), protect::content, &existing);
  EXPECT_TRUE(existing.empty());  // an existing file is protected by inode, not by name
}

TEST_F(ProtectedSetTest, SymlinkLoopEnds) {
  fs::create_symlink("b", root_ / "a");
  fs::create_symlink("a", root_ / "b");
  ProtectedSet set;
  protect_path(set, (root_ / "a").string(), protect::content);  // returns; nothing beyond the links
  EXPECT_EQ(set.at(key(root_ / "a")), protect::name);
  EXPECT_EQ(set.at(key(root_ / "b")), protect::name);
}

TEST(ProtectedSet, OwnMappedFilesIncludeTheExecutableAndLibc) {
  auto files = own_mapped_files();
  EXPECT_NE(std::find(files.begin(), files.end(), fs::read_symlink("/proc/self/exe").string()), files.end());
  EXPECT_TRUE(std::any_of(files.begin(), files.end(), [](const std::string& f) { return f.find("libc") != std::string::npos; }));
}

TEST(ProtectedSet, HelperPathsNameModprobeAsTheKernelIsConfigured) {
  std::ifstream in("/proc/sys/kernel/modprobe");  // absent on a kernel without modules
  std::string modprobe = "/sbin/modprobe";          // the kernel's default
  if (in) in >> modprobe;
  auto paths = kernel_helper_paths();
  EXPECT_NE(std::find(paths.begin(), paths.end(), modprobe), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/sbin/request-key"), paths.end());
}

}  // namespace
}  // namespace execgate
