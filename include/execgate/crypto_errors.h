// Typed errors of the crypto library (execgate_crypto): key files and the files it hashes.
// All derive from execgate::Error.
#pragma once

#include <string>

#include "execgate/error.h"

namespace execgate {

// A key file is malformed, inconsistent, or (secret keys) readable/writable by group or
// others. The message names the file and how to fix it.
class KeyFileError : public Error {
 public:
  KeyFileError(std::string path, const std::string& detail)
      : Error(ErrorKind::validation, path + ": " + detail), path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// sha256_file / sha256_fd was given something that is not a regular file (directory,
// device, FIFO, socket, ...).
class NotRegularFileError : public Error {
 public:
  NotRegularFileError(std::string path, const std::string& type)
      : Error(ErrorKind::validation, path + ": is a " + type + ", expected a regular file"),
        path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

}  // namespace execgate
