// SHA-256 of files through one fd.
#include <fcntl.h>

#include <fstream>

#include "common/fs.h"
#include "ticket_test_util.h"

namespace execgate {
namespace {

using test::TempDir;

TEST(Sha256File, EmptyFile) {
  TempDir dir;
  write_file_atomic(dir.file("empty"), "");
  EXPECT_EQ(hex_encode(sha256_file(dir.file("empty"))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256File, LargerThanOneBufferMatchesBytes) {
  TempDir dir;
  std::string data(200'000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + 3);
  write_file_atomic(dir.file("f"), data);
  EXPECT_EQ(sha256_file(dir.file("f")), sha256_bytes(as_bytes(data)));
}

TEST(Sha256File, DirectoryIsATypedError) {
  TempDir dir;
  try {
    sha256_file(dir.path().string());
    FAIL() << "directory hashed";
  } catch (const NotRegularFileError& e) {
    EXPECT_NE(std::string(e.what()).find("directory"), std::string::npos) << e.what();
  }
}

TEST(Sha256File, DevNullIsATypedError) {
  try {
    sha256_file("/dev/null");
    FAIL() << "/dev/null hashed";
  } catch (const NotRegularFileError& e) {
    EXPECT_NE(std::string(e.what()).find("character device"), std::string::npos) << e.what();
  }
}

TEST(Sha256File, MissingFileIsNotFound) {
  TempDir dir;
  try {
    sha256_file(dir.file("missing"));
    FAIL();
  } catch (const IoError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
  }
}

TEST(Sha256File, UnreadableFileIsIoError) {
  TempDir dir;
  write_file_atomic(dir.file("secret"), "x", 0000);
  // Root reads mode-000 files: judge as an unprivileged user in a child process.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) _exit(2);
    try {
      sha256_file(dir.file("secret"));
      _exit(1);
    } catch (const IoError&) {
      _exit(0);
    } catch (...) {
      _exit(3);
    }
  }
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "1: read succeeded, 2: cannot drop privileges, 3: wrong error type";
}

TEST(Sha256Fd, HashesThroughGivenFdWithoutMovingOffset) {
  TempDir dir;
  write_file_atomic(dir.file("abc"), "abc");
  UniqueFd fd(::open(dir.file("abc").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::lseek(fd.get(), 2, SEEK_SET), 2);
  EXPECT_EQ(hex_encode(sha256_fd(fd.get(), "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_CUR), 2);
  // Same fd again gives the same answer.
  EXPECT_EQ(sha256_fd(fd.get(), "abc"), sha256_bytes(as_bytes("abc")));
}

TEST(Sha256Fd, PipeIsATypedError) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  EXPECT_THROW(sha256_fd(r.get(), "pipe"), NotRegularFileError);
}

}  // namespace
}  // namespace execgate

namespace execgate {
namespace {

TEST(Sha256Fd, ReadFailureIsIoError) {
  test::TempDir dir;
  write_file_atomic(dir.file("f"), "data");
  UniqueFd fd(::open(dir.file("f").c_str(), O_WRONLY | O_CLOEXEC));  // pread fails with EBADF
  ASSERT_TRUE(fd);
  EXPECT_THROW(sha256_fd(fd.get(), "f"), IoError);
}

}  // namespace
}  // namespace execgate
