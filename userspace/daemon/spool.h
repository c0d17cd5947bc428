// The spool: /var/lib/execgate/inbox/ receives tickets and revocations from any sync
// tool; each file is submitted once and moved to done/ or rejected/ (+ NAME.reason).
#pragma once

#include <functional>
#include <string>

#include "common/fs.h"
#include <nlohmann/json.hpp>

namespace execgate {

class Spool {
 public:
  using Submit = std::function<nlohmann::json(const std::string& envelope, const std::string& source)>;
  Spool(std::string inbox, Submit submit);  // sets up an inotify watch
  int fd() const { return inotify_.get(); }  // readable when the inbox changed
  // Processes every complete file in the inbox (temp names starting with '.' are skipped).
  void drain();

 private:
  std::string inbox_;
  Submit submit_;
  UniqueFd inotify_;
};

}  // namespace execgate
