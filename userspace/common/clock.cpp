#include "execgate/clock.h"

#include <ctime>

namespace execgate {

UnixSeconds SystemClock::now() const {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec;
}

}  // namespace execgate
