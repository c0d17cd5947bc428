#include "gate/sealing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <sys/sysmacros.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/encoding.h"
#include "common/fs.h"
#include "gate/kernel_values.h"

namespace execgate {

static InodeKey key_of(const struct stat& st) { return InodeKey{kernel_dev(st.st_dev), st.st_ino}; }

// (dev, ino, ctime) of a stat the caller made.
static ResolvedSubject subject_of_stat(const std::string& path, const struct stat& st) {
  ResolvedSubject r;
  r.path = path;
  r.key = key_of(st);
  r.ctime_sec = st.st_ctim.tv_sec;
  r.ctime_nsec = static_cast<std::uint32_t>(st.st_ctim.tv_nsec);
  return r;
}


// Filesystems whose file contents can change with no writer the local kernel could
// count: network and cluster filesystems, FUSE (the server decides), overlayfs (its
// layers are written through their own inodes).
static std::optional<std::string> unsealable_fs(int fd) {
  struct statfs sf {};
  if (::fstatfs(fd, &sf) != 0) return std::nullopt;
  switch (static_cast<unsigned long>(sf.f_type)) {
    case 0x65735546: return "FUSE";
    case 0x6969: return "NFS";
    case 0xFE534D42: return "SMB2";
    case 0xFF534D42: return "CIFS";
    case 0x01021997: return "9p";
    case 0x00c36400: return "Ceph";
    case 0x6B414653: return "AFS";
    case 0x73757245: return "Coda";
    case 0x7461636f: return "OCFS2";
    case 0x01161970: return "GFS2";
    case 0x0BD00BD0: return "Lustre";
    case 0x794c7630: return "overlayfs";
    // pseudo filesystems: their files are made by the kernel as they are read (tracefs'
    // trace_pipe is a regular file whose read waits for events)
    case 0x9fa0: return "procfs";
    case 0x62656572: return "sysfs";
    case 0x74726163: return "tracefs";
    case 0x64626720: return "debugfs";
    case 0x73636673: return "securityfs";
    case 0x62656570: return "configfs";
    case 0xcafe4a11: return "bpffs";
    case 0x63677270: return "cgroup2";
    case 0x6c6f6f70: return "binfmt_misc";
    case 0xde5e81e4: return "efivarfs";
    case 0x6165676c: return "pstore";
    default: return std::nullopt;
  }
}


namespace {

// The pending entries one resolution made: removed again unless the resolution succeeded.
class PendingEntries {
 public:
  PendingEntries(TicketMap& gate, const TicketId& id) : gate_(gate), id_(id) {}
  ~PendingEntries() {
    if (keep_) return;
    for (const auto& k : keys_) {
      try {
        auto cur = gate_.get_ticket(k);
        if (cur && cur->pending && cur->id == id_) gate_.delete_ticket(k);
      } catch (const Error&) {
        // the entry stays pending: the kernel keeps denying it (`unsealed`), fail closed
      }
    }
  }
  PendingEntries(const PendingEntries&) = delete;
  PendingEntries& operator=(const PendingEntries&) = delete;

  void add(const InodeKey& key) {
    KernelTicket p;
    p.id = id_;
    p.pending = true;
    gate_.put_ticket(key, p);
    keys_.push_back(key);
  }
  void keep() { keep_ = true; }

 private:
  TicketMap& gate_;
  TicketId id_;
  std::vector<InodeKey> keys_;
  bool keep_ = false;
};

}  // namespace


Resolution resolve_subjects(const TicketBody& t, TicketMap& gate) {
  Resolution res;
  PendingEntries pending(gate, ticket_id(t.id));
  auto refuse = [&](RefusalReason reason, std::string detail) {
    res.subjects.clear();
    res.refusal = Refusal{reason, std::move(detail)};
    return res;
  };
  for (const Subject& s : t.subjects) {
    const std::string& path = *s.path;
    struct stat pre {};
    if (::stat(path.c_str(), &pre) != 0) return refuse(RefusalReason::missing_file, path + ": " + std::strerror(errno));
    if (!S_ISREG(pre.st_mode)) return refuse(RefusalReason::not_regular, path + ": not a regular file");
    const InodeKey key = key_of(pre);
    // 1. the entry goes in before the open: from here on no writer can appear
    auto cur = gate.get_ticket(key);
    const bool sealed_before = cur && !cur->pending;
    if (!sealed_before) pending.add(key);
    // 2. one open; the kernel counts the inode's writers at this open
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) return refuse(RefusalReason::missing_file, path + ": " + std::strerror(errno));
    struct stat before {}, after {};
    if (::fstat(fd.get(), &before) != 0 || !S_ISREG(before.st_mode))
      return refuse(RefusalReason::not_regular, path + ": not a regular file");
    if (key_of(before) != key) return refuse(RefusalReason::stale, path + ": replaced by another file while it was being resolved");
    if (auto dev = file_backed_device(before.st_dev))
      return refuse(RefusalReason::unsupported_fs, path + ": its filesystem lies on a " + *dev +
                                          ", whose bytes can change with no writer of the file; "
                                          "ticket a copy on a local disk");
    if (auto fs = unsealable_fs(fd.get()))
      return refuse(RefusalReason::unsupported_fs, path + ": on " + *fs +
                                          ", where its contents can change with no writer this kernel sees; "
                                          "ticket a copy on a local filesystem");
    Sha256Digest digest;
    try {
      digest = sha256_fd(fd.get(), path);
    } catch (const Error& e) {
      return refuse(RefusalReason::missing_file, e.what());
    }
    ::fstat(fd.get(), &after);
    if (before.st_ctim.tv_sec != after.st_ctim.tv_sec || before.st_ctim.tv_nsec != after.st_ctim.tv_nsec ||
        before.st_size != after.st_size)
      return refuse(RefusalReason::stale, path + ": changed while it was being hashed");
    // 3. nobody may have held it open for writing at that open (a shared writable
    //    mapping counts: its writes need not move ctime)
    std::uint32_t generation = sealed_before ? cur->generation : 0;
    if (!sealed_before) {
      auto probed = gate.get_ticket(key);
      if (!probed || !probed->probed)
        return refuse(RefusalReason::unsealed, path + ": the kernel did not see execgated open the file "
                                         "(execgated must run in the initial PID namespace)");
      if (probed->writers > 0)
        return refuse(RefusalReason::open_for_write, path + ": open for writing elsewhere (" + std::to_string(probed->writers) +
                                            " writer(s); a shared writable mapping counts): close it and submit again");
      generation = probed->generation;
    }
    if (std::memcmp(digest.data(), s.sha256.data(), digest.size()) != 0)
      return refuse(RefusalReason::digest_mismatch,
                    path + ": sha256 is " + hex_encode(digest) + ", ticket says " + hex_encode(s.sha256));
    ResolvedSubject r = subject_of_stat(path, before);
    r.sha256 = hex_encode(digest);
    r.generation = generation;
    res.subjects.push_back(std::move(r));
  }
  pending.keep();
  return res;
}

KernelTicket kernel_entry(const TicketBody& t, const ResolvedSubject& s, std::optional<std::int64_t> uses_left) {
  KernelTicket v = ticket_entry(t, wall_to_boot_ns);
  v.ctime_sec = s.ctime_sec;
  v.ctime_nsec = s.ctime_nsec;
  v.generation = s.generation;
  if (v.uses_left && uses_left) v.uses_left = uses_left;
  return v;
}

}  // namespace execgate
