// The audit log's records not yet on disk (held_records.h).
#include "held_records.h"

#include "execgate/names.h"

namespace execgate::audit_detail {

HeldRecords::Batch HeldRecords::take() {
  Batch b;
  b.bytes.swap(buffer_);
  b.records = records_;
  records_ = 0;
  writing_ = true;
  inflight_ = b.bytes.size();
  return b;
}

void HeldRecords::written() {
  writing_ = false;
  inflight_ = 0;
}

void HeldRecords::put_back(Batch batch) {
  writing_ = false;
  inflight_ = 0;
  batch.bytes.append(buffer_);
  buffer_.swap(batch.bytes);
  records_ += batch.records;
}

void HeldRecords::clear() {
  buffer_.clear();
  records_ = 0;
}

void HeldRecords::drop() {
  ++dropped_;
  ++dropped_total_;
}

nlohmann::json HeldRecords::take_dropped_gap(std::size_t max_held_bytes) {
  if (dropped_ == 0) return nullptr;
  const std::uint64_t n = dropped_;
  dropped_ = 0;
  return {{"event", name(EventKind::gap)},
          {"reason", name(RecordReason::disk_full)},
          {"count", n},
          {"detail", std::to_string(n) + " records dropped: the audit log's file system was full and " +
                         std::to_string(max_held_bytes) + " bytes of records were held in memory"}};
}

}  // namespace execgate::audit_detail
