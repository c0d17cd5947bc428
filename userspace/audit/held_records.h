// The records appended to an audit log and not yet on disk (docs/audit.md "Writer, group
// commit and crash semantics"; "held" while the disk is full): the commit buffer each
// record's line is serialized into, the batch being written with the append mutex released
// (one at a time), and the records dropped beyond max_held_bytes that a `gap` record still
// has to count. Not thread-safe: the writer guards it with its append mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace execgate::audit_detail {

class HeldRecords {
 public:
  // The records taken out to be written.
  struct Batch {
    std::string bytes;
    std::size_t records = 0;
  };

  // Appends one record: write(buffer) appends its line. Returns the bytes it took.
  template <typename Write>
  std::size_t add(Write&& write) {
    const std::size_t before = buffer_.size();
    write(buffer_);
    ++records_;
    return buffer_.size() - before;
  }

  bool empty() const { return buffer_.empty(); }
  std::size_t records() const { return records_; }  // in the buffer (not the batch in flight)
  std::size_t buffered_bytes() const { return buffer_.size(); }
  // The buffer and the batch in flight: what max_held_bytes bounds.
  std::size_t held_bytes() const { return buffer_.size() + inflight_; }
  std::string_view bytes() const { return buffer_; }

  // Takes the buffer as the batch in flight.
  Batch take();
  bool writing() const { return writing_; }
  // The batch in flight is on disk.
  void written();
  // The batch in flight failed: back in front of what was appended since (order and chain kept).
  void put_back(Batch batch);
  // The buffer went to disk with the append mutex held (rotation, close).
  void clear();

  // A record not kept (max_held_bytes held): counted in a gap record before the next one.
  void drop();
  std::uint64_t dropped() const { return dropped_; }  // not yet in a gap record
  std::uint64_t dropped_total() const { return dropped_total_; }
  // The gap record counting the records dropped since the last one, which they are then
  // in; null when none were.
  nlohmann::json take_dropped_gap(std::size_t max_held_bytes);

 private:
  std::string buffer_;
  std::size_t records_ = 0;
  bool writing_ = false;   // a batch is being written with the append mutex released
  std::size_t inflight_ = 0;  // its bytes
  std::uint64_t dropped_ = 0;
  std::uint64_t dropped_total_ = 0;
};

}  // namespace execgate::audit_detail
