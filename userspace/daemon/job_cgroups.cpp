// The running system's job cgroups (job_cgroups.h): cgroupfs.
#include "job_cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "common/fs.h"
#include "execgate/error.h"
#include "gate/kernel_facts.h"

namespace execgate {

namespace {

void write_word(const std::string& file, const std::string& word, const std::string& what) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), word.data(), word.size()) != static_cast<ssize_t>(word.size()))
    throw IoError(file, errno, what);
}

class SystemJobCgroups final : public JobCgroups {
 public:
  std::uint64_t make(const std::string& path) override {
    const std::string dir = root() + path;
    if (::mkdir(dir.c_str(), 0755) != 0) throw IoError(dir, errno, "cannot make the job's cgroup");
    auto made = id(path);
    if (!made) throw IoError(dir, errno, "cannot read the job's cgroup");
    return *made;
  }

  std::optional<std::uint64_t> id(const std::string& path) const override {
    struct stat st {};
    if (::stat((root() + path).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    return st.st_ino;
  }

  void move(pid_t pid, const std::string& path) override {
    write_word(root() + path + "/cgroup.procs", std::to_string(pid),
               "cannot move process " + std::to_string(pid) + " into the job");
  }

  bool populated(const std::string& path) const override {
    try {
      std::istringstream text(read_file(root() + path + "/cgroup.events", 4096));
      for (std::string key, value; text >> key >> value;)
        if (key == "populated") return value != "0";
    } catch (const std::exception&) {
      return false;  // gone
    }
    return true;  // unreadable: taken as busy
  }

  void kill(const std::string& path) override {
    write_word(root() + path + "/cgroup.kill", "1", "cannot kill the job's processes");
  }

  bool remove(const std::string& path) override { return ::rmdir((root() + path).c_str()) == 0; }

  std::vector<std::string> children(const std::string& path) const override {
    std::vector<std::string> out;
    DIR* d = ::opendir((root() + path).c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.') out.emplace_back(e->d_name);
    ::closedir(d);
    return out;
  }

 private:
  const std::string& root() const {
    static const std::string r = cgroup2_root();
    return r;
  }
};

}  // namespace

JobCgroups& system_job_cgroups() {
  static SystemJobCgroups cgroups;
  return cgroups;
}

}  // namespace execgate
