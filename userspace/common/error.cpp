#include "execgate/error.h"

#include <cstring>

namespace execgate {

IoError::IoError(std::string path, int err, const std::string& what)
    : Error(err == ENOENT ? ErrorKind::not_found : ErrorKind::io,
            path + ": " + what + ": " + std::strerror(err)),
      path_(std::move(path)),
      err_(err) {}

ExitCode exit_code_for(const Error& e) noexcept {
  switch (e.kind()) {
    case ErrorKind::usage:
      return ExitCode::usage;
    case ErrorKind::verification:
    case ErrorKind::not_found:
      return ExitCode::denied;
    case ErrorKind::parse:
    case ErrorKind::validation:
      return ExitCode::denied;
    default:
      return ExitCode::runtime;
  }
}

}  // namespace execgate
