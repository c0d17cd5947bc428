// The audit log's hash chain: record lines, checkpoints, resume (chain.h).
#include "chain.h"

#include <cstring>
#include <ctime>

#include "crypto/blake2b.h"
#include "execgate/error.h"
#include "execgate/names.h"

namespace execgate::audit_detail {

AuditChain::AuditChain(std::optional<SecretKey> key, std::uint64_t every) : key_(std::move(key)), every_(every) {
  if (key_) key_id_ = key_->key_id();
}

// Writes the RFC 3339 time into time_buf_ (30 chars) and returns it.
std::string_view AuditChain::now_rfc3339() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_sec != cached_sec_) {
    cached_sec_ = ts.tv_sec;
    cached_prefix_ = format_audit_time(ts.tv_sec, 0);
    cached_prefix_.resize(cached_prefix_.size() - 10);  // drop "000000000Z"
  }
  std::memcpy(time_buf_, cached_prefix_.data(), cached_prefix_.size());
  char* p = time_buf_ + cached_prefix_.size();
  long ns = ts.tv_nsec;
  for (int i = 8; i >= 0; --i, ns /= 10) p[i] = static_cast<char>('0' + ns % 10);
  p[9] = 'Z';
  return {time_buf_, cached_prefix_.size() + 10};
}

// Sets seq/time/prev, hashes, appends to out.
std::uint64_t AuditChain::emit(std::string& out, const nlohmann::json& rec) {
  const std::uint64_t seq = next_seq_;
  // Serialize straight into the buffer (byte-identical to audit_canonical of the record
  // with seq/time/prev set), hash that region, then turn the closing '}' into
  // ,"hash":"<hex>"}\n.
  const std::string_view time = now_rfc3339();
  const std::size_t before = out.size();
  append_audit_canonical(out, rec, seq, time, prev_);
  const Blake2b256 digest = blake2b_256(std::string_view(out).substr(before));
  out.pop_back();
  out.append(",\"hash\":\"");
  static constexpr char kHex[] = "0123456789abcdef";
  const std::size_t hpos = out.size();
  out.resize(hpos + 64);
  for (int i = 0; i < 32; ++i) {
    out[hpos + 2 * i] = kHex[digest[i] >> 4];
    out[hpos + 2 * i + 1] = kHex[digest[i] & 0xf];
  }
  prev_.assign(out, hpos, 64);
  out.append("\"}\n");
  ++records_written_;
  next_seq_ = seq + 1;
  return seq;
}

std::uint64_t AuditChain::append(std::string& out, const nlohmann::json& rec) {
  const std::uint64_t seq = emit(out, rec);
  ++since_cp_;
  return seq;
}

void AuditChain::checkpoint(std::string& out, bool final_cp) {
  nlohmann::json rec = {{"event", name(EventKind::checkpoint)},
                        {"key_id", key_id_},
                        {"head", prev_},
                        {"seq_head", next_seq_ - 1},
                        {"every", every_},
                        {"sig", sign_audit_checkpoint(next_seq_ - 1, prev_, *key_)}};
  if (final_cp) rec["final"] = true;
  const std::size_t before = out.size();
  const std::uint64_t seq = emit(out, rec);
  recent_cps_.push_back({seq, out.substr(before, out.size() - before - 1)});
  if (recent_cps_.size() > kRecentCheckpoints) recent_cps_.pop_front();
  since_cp_ = 0;
  ++checkpoints_;
  last_cp_time_ = Clock::now();
}

void AuditChain::resume(const std::vector<std::string_view>& lines, const std::string& path) {
  // Start at the last checkpoint (its signature covers everything before it).
  const std::string checkpoint_member = "\"event\":\"" + std::string(name(EventKind::checkpoint)) + "\"";
  std::size_t start = 0;
  for (std::size_t i = lines.size(); i-- > 0;) {
    if (lines[i].find(checkpoint_member) != std::string_view::npos) {
      start = i;
      break;
    }
  }
  auto bad = [&](std::uint64_t line_no, const std::string& why) {
    throw Error(ErrorKind::verification, path + ":" + std::to_string(line_no) +
                                             ": existing audit log fails verification (" + why +
                                             "); refusing to append — move the log aside or run `execgate audit verify`");
  };
  bool have = false;
  std::string expect_prev;
  std::uint64_t expect_seq = 0;
  since_cp_ = 0;
  for (std::size_t i = start; i < lines.size(); ++i) {
    nlohmann::json rec;
    std::string why;
    if (!parse_audit_line(lines[i], &rec, &why)) bad(i + 1, "record " + why);
    if (!rec.contains("seq") || !rec["seq"].is_number_unsigned() || !rec.contains("prev") ||
        !rec["prev"].is_string() || !rec.contains("event") || !rec["event"].is_string())
      bad(i + 1, "record lacks seq/prev/event");
    const auto seq = rec["seq"].get<std::uint64_t>();
    const auto& prv = rec["prev"].get_ref<const std::string&>();
    if (have && (seq != expect_seq || prv != expect_prev)) bad(i + 1, "chain broken at seq " + std::to_string(seq));
    if (rec["event"].get_ref<const std::string&>() == name(EventKind::checkpoint)) {
      recent_cps_ = {{seq, std::string(lines[i])}};
      if (key_ && rec.value("key_id", "") == key_id_ &&
          !verify_audit_checkpoint(rec.value("seq_head", std::uint64_t{0}), rec.value("head", ""),
                                   rec.value("sig", ""), key_->public_key()))
        bad(i + 1, "checkpoint signature invalid at seq " + std::to_string(seq));
      since_cp_ = 0;
    } else {
      ++since_cp_;
    }
    have = true;
    expect_seq = seq + 1;
    expect_prev = rec["hash"].get<std::string>();
  }
  next_seq_ = expect_seq;
  prev_ = expect_prev;
}

}  // namespace execgate::audit_detail
