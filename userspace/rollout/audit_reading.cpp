#include "rollout/audit_reading.h"

#include <sstream>

#include "common/fs.h"
#include "execgate/error.h"

namespace execgate {
using nlohmann::json;

std::string AuditReading::summary() const {
  const AuditVerifyResult& v = verify;
  std::string s = std::to_string(v.records) + " records (seq " + std::to_string(v.first_seq) + ".." +
                  std::to_string(v.last_seq) + ") in " + std::to_string(v.files.size()) + " file(s): ";
  if (!v.ok)
    return s + "NOT VERIFIED: broken at seq " + (v.first_bad_seq ? std::to_string(*v.first_bad_seq) : "?") + ": " +
           v.reason + " (" + v.file + ":" + std::to_string(v.line) + "); read anyway (--unverified), " +
           std::to_string(unreadable) + " line(s) unreadable";
  s += "hash chain verified";
  if (!signatures_checked) return s + "; checkpoint signatures NOT checked (no --pub): a consistent rewrite would pass";
  if (!v.checkpoints) return s + "; no signed checkpoint in the log: nothing is covered by a signature";
  return s + "; " + std::to_string(v.checkpoints) + " checkpoint signature(s) verified, signed through seq " +
         std::to_string(v.last_signed_seq) +
         (v.unsigned_tail ? " (" + std::to_string(v.unsigned_tail) + " newer records not signed yet)" : "");
}

json AuditReading::to_json() const {
  json j = verify.to_json();
  j["signatures_checked"] = signatures_checked;
  j["unreadable"] = unreadable;
  j["summary"] = summary();
  return j;
}

AuditReading read_audit_log(const std::string& log, const AuditReadOptions& options,
                            const std::function<void(const json&)>& each) {
  AuditReading out;
  AuditVerifyOptions vo;
  vo.allow_pruned_start = options.allow_pruned;
  vo.check_signatures = !options.keys.empty();
  out.signatures_checked = vo.check_signatures;
  out.verify = verify_audit(log, options.keys, vo);
  if (!out.verify.ok && !options.accept_broken)
    throw Error(ErrorKind::verification,
                audit_live_path(log) + ": the audit log does not verify: broken at seq " +
                    (out.verify.first_bad_seq ? std::to_string(*out.verify.first_bad_seq) : "?") + ": " +
                    out.verify.reason + " (" + out.verify.file + ":" + std::to_string(out.verify.line) +
                    "); nothing was read from it. `execgate audit verify` says more; --unverified reads it anyway");
  for (const auto& file : out.verify.files) {
    std::istringstream in(read_file(file, std::size_t{1} << 32));
    for (std::string line; std::getline(in, line);) {
      json record;
      std::string why;
      if (!parse_audit_line(line, &record, &why)) {
        ++out.unreadable;
        continue;
      }
      each(record);
    }
  }
  return out;
}

}  // namespace execgate
