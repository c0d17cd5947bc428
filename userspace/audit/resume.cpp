// Resuming an existing audit log at open() (resume.h).
#include "resume.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/fs.h"
#include "execgate/error.h"
#include "internal.h"

namespace execgate::audit_detail {

namespace {

// Cuts the live file to `size` bytes (a torn record after it), clearing FS_APPEND_FL for
// the ftruncate if needed (opening the live file sets it again).
void truncate_torn(const std::string& path, std::size_t size) {
  // O_APPEND: an FS_APPEND_FL file cannot be opened for writing without it.
  UniqueFd tfd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY));
  if (!tfd) throw IoError(path, errno, "cannot open to truncate a torn record");
  bool was_append = false;
  get_append_only(tfd.get(), &was_append);
  if (was_append) set_append_only(tfd.get(), false);
  if (::ftruncate(tfd.get(), static_cast<off_t>(size)) != 0)
    throw IoError(path, errno, "cannot truncate a torn record");
  if (::fsync(tfd.get()) != 0) throw IoError(path, errno, "fsync failed");
}

}  // namespace

ResumedLog resume_log(const std::string& path, AuditChain& chain) {
  ResumedLog out;
  std::error_code ec;
  std::string data;
  if (std::filesystem::exists(path, ec)) data = read_whole(path);
  std::string_view torn;
  auto lines = split_lines(data, &torn);
  if (!torn.empty()) {
    out.torn_bytes = torn.size();
    truncate_torn(path, data.size() - torn.size());
    data.resize(data.size() - torn.size());
    lines = split_lines(data, &torn);
  }
  out.file_bytes = data.size();
  if (!lines.empty()) {
    chain.resume(lines, path);
    nlohmann::json first;
    std::string why;
    if (!parse_audit_line(lines.front(), &first, &why))
      throw Error(ErrorKind::verification, path + ": first record " + why);
    out.file_first_seq = first["seq"].get<std::uint64_t>();
    return out;
  }
  // Empty live file: continue from the newest rotated file, if any.
  auto files = audit_log_files(path);
  if (!files.empty() && files.back() == path) files.pop_back();
  if (!files.empty()) {
    std::string rdata = read_whole(files.back());
    std::string_view rtorn;
    auto rlines = split_lines(rdata, &rtorn);
    if (!rtorn.empty() || rlines.empty())
      throw Error(ErrorKind::verification, files.back() + ": rotated audit file is truncated; refusing to continue");
    chain.resume(rlines, files.back());
  }
  out.file_first_seq = chain.next_seq();
  return out;
}

}  // namespace execgate::audit_detail
