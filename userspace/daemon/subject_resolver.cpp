#include "subject_resolver.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "execgate/encoding.h"
#include "execgate/fs.h"

namespace execgate {

static ResolvedSubject from_stat(const std::string& path, const struct stat& st) {
  ResolvedSubject r;
  r.path = path;
  r.key = InodeKey{kernel_dev(st.st_dev), st.st_ino};
  r.ctime_sec = st.st_ctim.tv_sec;
  r.ctime_nsec = static_cast<std::uint32_t>(st.st_ctim.tv_nsec);
  return r;
}

std::optional<ResolvedSubject> stat_subject(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return from_stat(path, st);
}

Resolution resolve_subjects(const TicketBody& t) {
  Resolution res;
  for (const Subject& s : t.subjects) {
    const std::string& path = *s.path;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
      res.refusal = Refusal{"missing_file", path + ": " + std::strerror(errno)};
      return res;
    }
    struct stat before {}, after {};
    if (::fstat(fd.get(), &before) != 0 || !S_ISREG(before.st_mode)) {
      res.refusal = Refusal{"not_regular", path + ": not a regular file"};
      return res;
    }
    Sha256Digest digest;
    try {
      digest = sha256_fd(fd.get(), path);
    } catch (const Error& e) {
      res.refusal = Refusal{"missing_file", e.what()};
      return res;
    }
    ::fstat(fd.get(), &after);
    if (before.st_ctim.tv_sec != after.st_ctim.tv_sec || before.st_ctim.tv_nsec != after.st_ctim.tv_nsec ||
        before.st_size != after.st_size) {
      res.refusal = Refusal{"stale", path + ": changed while it was being hashed"};
      return res;
    }
    if (std::memcmp(digest.data(), s.sha256.data(), digest.size()) != 0) {
      res.refusal = Refusal{"digest_mismatch", path + ": sha256 is " + hex_encode(digest) + ", ticket says " +
                                                   hex_encode(s.sha256)};
      return res;
    }
    ResolvedSubject r = from_stat(path, before);
    r.sha256 = hex_encode(digest);
    res.subjects.push_back(std::move(r));
  }
  return res;
}

static void copy_id(std::uint8_t (&dst)[EG_ID_LEN], const std::string& hex) {
  Bytes b = hex_decode(hex);
  std::memcpy(dst, b.data(), std::min<std::size_t>(b.size(), EG_ID_LEN));
}

eg_ticket kernel_entry(const TicketBody& t, const ResolvedSubject& s, std::optional<std::int64_t> uses_left) {
  eg_ticket v{};
  copy_id(v.id, t.id);
  if (t.parent) {
    copy_id(v.parent, *t.parent);
    v.flags |= EG_TF_HAS_PARENT;
  }
  v.not_before_ns = wall_to_boot_ns(t.not_before);
  v.not_after_ns = wall_to_boot_ns(t.not_after);
  v.ctime_sec = s.ctime_sec;
  v.ctime_nsec = s.ctime_nsec;
  if (t.max_uses > 0) {
    v.flags |= EG_TF_LIMITED_USES;
    v.uses_left = uses_left.value_or(static_cast<std::int64_t>(t.max_uses));
  }
  v.n_uids = static_cast<__u32>(t.uids.size());
  for (std::size_t i = 0; i < t.uids.size() && i < EG_MAX_UIDS; ++i) v.uids[i] = t.uids[i];
  return v;
}

}  // namespace execgate
