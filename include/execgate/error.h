// Typed errors shared by every execgate library. Libraries throw; only main() turns
// an Error into an exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace execgate {

// Exit codes of the operator CLI (contract: shared/execgate-brief.md).
enum class ExitCode : int {
  ok = 0,
  runtime = 1,
  usage = 2,
  denied = 3,  // verification failed / denied / not found
};

enum class ErrorKind {
  io,            // a file or socket operation failed
  parse,         // malformed input (JSON, TOML, base64, ...)
  validation,    // well-formed input with a wrong value
  verification,  // a signature, digest or validity check failed
  usage,         // the caller asked for something impossible
  kernel,        // BPF / kernel interface failure
  not_found,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// An I/O error carrying errno and the file it concerns.
class IoError : public Error {
 public:
  IoError(std::string path, int err, const std::string& what);
  const std::string& path() const noexcept { return path_; }
  int err() const noexcept { return err_; }

 private:
  std::string path_;
  int err_;
};

// Maps an error to the CLI's exit code.
ExitCode exit_code_for(const Error& e) noexcept;

}  // namespace execgate
