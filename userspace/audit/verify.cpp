// Offline verifier: file order, hash chain, seq continuity, checkpoint signatures and
// checkpoint spacing (rules in docs/audit.md "Verification").
#include <algorithm>
#include <filesystem>

#include "execgate/audit.h"
#include "execgate/error.h"
#include "internal.h"

namespace execgate {

namespace {

struct Failure {};

class Verifier {
 public:
  Verifier(const std::vector<PublicKey>& keys, const AuditVerifyOptions& opt, AuditVerifyResult& r)
      : keys_(keys), opt_(opt), r_(r) {}

  void file(const std::string& path, bool rotated) {
    file_ = path;
    line_ = 0;
    std::string data = audit_detail::read_whole(path);
    std::string_view torn;
    auto lines = audit_detail::split_lines(data, &torn);
    std::uint64_t name_seq = 0;
    if (rotated) {
      const std::string live = path.substr(0, path.size() - 21);
      audit_detail::parse_rotated_name(live, path, &name_seq);
      if (lines.empty()) {
        line_ = 1;
        fail(expect_or(name_seq), "rotated file is empty or truncated");
      }
    }
    bool first_in_file = true;
    for (auto line : lines) {
      ++line_;
      record(line, rotated && first_in_file ? &name_seq : nullptr);
      first_in_file = false;
    }
    if (!torn.empty()) {
      ++line_;
      fail(expect_or(0), "truncated: partial record (" + std::to_string(torn.size()) +
                             " bytes without a newline) at the end of the file");
    }
    if (rotated && since_cp_ > 0)
      fail(first_unsigned_, "rotated file does not end with a checkpoint (" + std::to_string(since_cp_) +
                                " unsigned records; rotation always checkpoints)");
  }

  void finish() {
    r_.unsigned_tail = since_cp_;
    if (!opt_.expect_heads.empty()) {
      const auto& [last_expected, head] = *opt_.expect_heads.rbegin();
      if (!started_ || r_.last_seq < last_expected)
        fail(started_ ? r_.last_seq + 1 : 1, "log truncated: it ends at seq " + std::to_string(r_.last_seq) +
                                                  " but the expected head (" + head.from + ") is seq " +
                                                  std::to_string(last_expected));
      const auto unchecked = opt_.expect_heads.lower_bound(r_.first_seq);
      const auto n = std::distance(opt_.expect_heads.begin(), unchecked);
      if (n > 0)
        r_.warnings.push_back(std::to_string(n) + " expected head(s) before the log's first record (seq " +
                              std::to_string(r_.first_seq) + ", pruned): not checked");
    }
    if (!started_) {
      r_.warnings.push_back("log is empty");
      return;
    }
    if (!opt_.check_signatures && r_.checkpoints)
      r_.warnings.push_back("the signatures of " + std::to_string(r_.checkpoints) +
                            " checkpoint(s) were not checked (no key given)");
    if (since_cp_ > 0) {
      std::string what = "unsigned tail of " + std::to_string(since_cp_) + " records (seq " +
                         std::to_string(first_unsigned_) + ".." + std::to_string(r_.last_seq) +
                         (r_.checkpoints ? ") after the last checkpoint" : ") and no checkpoint at all");
      if (every_open_ && since_cp_ > *every_open_)
        fail(first_unsigned_, what + ", more than the declared checkpoint_every " + std::to_string(*every_open_) +
                                  " (checkpoint removed?)");
      if (opt_.require_final_checkpoint) fail(first_unsigned_, what + "; the log must end with a checkpoint");
      r_.warnings.push_back(what + " (normal for a live log)");
    }
  }

 private:
  std::uint64_t expect_or(std::uint64_t dflt) const { return started_ ? expect_ : (dflt ? dflt : 1); }

  [[noreturn]] void fail(std::uint64_t seq, const std::string& why) {
    r_.ok = false;
    r_.first_bad_seq = seq;
    r_.untrusted_from = std::min(seq, first_unsigned_ ? first_unsigned_ : seq);
    r_.reason = why;
    r_.file = file_;
    r_.line = line_;
    throw Failure{};
  }

  void record(std::string_view line, const std::uint64_t* name_seq) {
    const std::uint64_t pos = expect_or(name_seq ? *name_seq : 0);
    if (line.empty()) fail(pos, "empty line");
    nlohmann::json rec;
    std::string why;
    if (!parse_audit_line(line, &rec, &why)) fail(pos, "record " + why);
    auto sit = rec.find("seq");
    if (sit == rec.end() || !sit->is_number_unsigned()) fail(pos, "record has no unsigned integer seq");
    const std::uint64_t seq = sit->get<std::uint64_t>();
    auto pit = rec.find("prev");
    if (pit == rec.end() || !pit->is_string()) fail(pos, "record has no prev");
    const std::string& prev = pit->get_ref<const std::string&>();
    if (!started_) {
      if (seq != 1 || prev != kAuditGenesisPrev) {
        if (!opt_.allow_pruned_start)
          fail(seq != 1 ? 1 : seq, "log does not start at the genesis record (first record has seq " +
                                       std::to_string(seq) + (seq == 1 ? " but a non-zero prev" : "") +
                                       "; older files missing? use --allow-pruned)");
        r_.warnings.push_back("log starts at seq " + std::to_string(seq) + " (older files pruned?); its prev is taken on trust");
      }
      started_ = true;
      r_.first_seq = seq;
      first_unsigned_ = seq;
      prev_hash_ = prev;
      expect_ = seq;
    }
    if (name_seq && *name_seq != seq)
      fail(expect_, "file name says its first record is seq " + std::to_string(*name_seq) + " but it is seq " +
                        std::to_string(seq));
    if (seq != expect_)
      fail(expect_, "found seq " + std::to_string(seq) + " where seq " + std::to_string(expect_) +
                        " was expected (record deleted, reordered or inserted)");
    if (prev != prev_hash_)
      fail(seq, "prev does not match the hash of the preceding record (record deleted, reordered, inserted or "
                "rewritten)");
    auto tit = rec.find("time");
    if (tit == rec.end() || !tit->is_string()) fail(seq, "record has no time");
    auto eit = rec.find("event");
    if (eit == rec.end() || !eit->is_string() || !is_audit_event(eit->get_ref<const std::string&>()))
      fail(seq, "record has a missing or unknown event");
    const std::string& hash = rec["hash"].get_ref<const std::string&>();
    if (const auto e = opt_.expect_heads.find(seq); e != opt_.expect_heads.end() && e->second.hash != hash)
      fail(seq, "record hash differs from the expected head " + e->second.hash + " (" + e->second.from + ")");
    if (eit->get_ref<const std::string&>() == name(EventKind::checkpoint))
      checkpoint(rec, seq);
    else
      ++since_cp_;
    prev_hash_ = hash;
    expect_ = seq + 1;
    r_.records++;
    r_.last_seq = seq;
    r_.last_hash = hash;
  }

  void checkpoint(const nlohmann::json& rec, std::uint64_t seq) {
    auto str = [&](const char* k) -> std::string {
      auto it = rec.find(k);
      if (it == rec.end() || !it->is_string()) fail(seq, std::string("checkpoint has no ") + k);
      return it->get<std::string>();
    };
    auto num = [&](const char* k) -> std::uint64_t {
      auto it = rec.find(k);
      if (it == rec.end() || !it->is_number_unsigned()) fail(seq, std::string("checkpoint has no ") + k);
      return it->get<std::uint64_t>();
    };
    const std::string key_id = str("key_id"), head = str("head"), sig = str("sig");
    const std::uint64_t seq_head = num("seq_head"), every = num("every");
    const PublicKey* key = nullptr;
    std::string ids;
    for (const auto& k : keys_) {
      std::string id = k.key_id();
      if (id == key_id) key = &k;
      ids += (ids.empty() ? "" : ", ") + id;
    }
    if (!key && opt_.check_signatures)
      fail(seq, "checkpoint signed by key " + key_id + ", not by the given key (" + ids + ")");
    if (head != prev_hash_ || seq_head + 1 != seq)
      fail(seq, "checkpoint head/seq_head do not name the preceding record");
    if (opt_.check_signatures && !verify_audit_checkpoint(seq_head, head, sig, *key))
      fail(seq, "checkpoint signature is invalid");
    if (every == 0) fail(seq, "checkpoint declares checkpoint_every 0");
    const std::uint64_t limit = std::max(every, every_open_.value_or(every));
    if (since_cp_ > limit)
      fail(seq, std::to_string(since_cp_) + " records since the previous checkpoint, more than checkpoint_every " +
                    std::to_string(limit) + " (a checkpoint was removed?)");
    r_.checkpoints++;
    r_.last_signed_seq = seq_head;
    since_cp_ = 0;
    first_unsigned_ = seq + 1;
    every_open_ = every;
  }

  const std::vector<PublicKey>& keys_;
  const AuditVerifyOptions& opt_;
  AuditVerifyResult& r_;
  std::string file_;
  std::uint64_t line_ = 0;
  bool started_ = false;
  std::uint64_t expect_ = 1;
  std::string prev_hash_{kAuditGenesisPrev};
  std::uint64_t since_cp_ = 0;
  std::uint64_t first_unsigned_ = 0;  // first seq after the last valid checkpoint
  std::optional<std::uint64_t> every_open_;
};

}  // namespace

AuditVerifyResult verify_audit(const std::string& path_or_dir, const std::vector<PublicKey>& keys,
                               const AuditVerifyOptions& options) {
  AuditVerifyResult r;
  r.files = audit_log_files(path_or_dir);
  if (r.files.empty())
    throw Error(ErrorKind::not_found, audit_live_path(path_or_dir) + ": no audit log (nor rotated files) found");
  if (keys.empty() && options.check_signatures)
    throw Error(ErrorKind::usage, "verify_audit needs at least one public key");
  const std::string live = audit_live_path(path_or_dir);
  Verifier v(keys, options, r);
  try {
    for (const auto& f : r.files) v.file(f, f != live);
    v.finish();
    r.ok = true;
  } catch (const Failure&) {
    r.ok = false;
  }
  return r;
}

nlohmann::json AuditVerifyResult::to_json() const {
  nlohmann::json j = {{"ok", ok},
                      {"files", files},
                      {"records", records},
                      {"checkpoints", checkpoints},
                      {"first_seq", first_seq},
                      {"last_seq", last_seq},
                      {"last_hash", last_hash},
                      {"last_signed_seq", last_signed_seq},
                      {"unsigned_tail", unsigned_tail},
                      {"warnings", warnings}};
  if (!ok) {
    j["first_bad_seq"] = first_bad_seq ? nlohmann::json(*first_bad_seq) : nlohmann::json();
    j["untrusted_from"] = untrusted_from ? nlohmann::json(*untrusted_from) : nlohmann::json();
    j["reason"] = reason;
    j["file"] = file;
    j["line"] = line;
  }
  return j;
}

}  // namespace execgate
