// Injectable wall clock so validity checks are testable.
#pragma once

#include <cstdint>
#include <functional>

namespace execgate {

// Seconds since the Unix epoch.
using UnixSeconds = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixSeconds now() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixSeconds now() const override;
};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(UnixSeconds t) : t_(t) {}
  UnixSeconds now() const override { return t_; }
  void set(UnixSeconds t) { t_ = t; }
  void advance(UnixSeconds d) { t_ += d; }

 private:
  UnixSeconds t_;
};

}  // namespace execgate
