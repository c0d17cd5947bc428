// Typed errors of the ticket library (execgate_ticket). All derive from execgate::Error.
#pragma once

#include <string>

#include "execgate/error.h"

namespace execgate {

// A document (envelope or body) failed verification. reason() is one of the contract's
// names: "bad_signature", "untrusted_issuer", "expired", "not_yet_valid", or "malformed"
// (parse / validation problems; the message names the field and what was expected).
class VerificationError : public Error {
 public:
  VerificationError(std::string reason, const std::string& detail)
      : Error(ErrorKind::verification, reason + ": " + detail), reason_(std::move(reason)) {}
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

// Shorthand for VerificationError("malformed", ...).
class MalformedError : public VerificationError {
 public:
  explicit MalformedError(const std::string& detail) : VerificationError("malformed", detail) {}
};

}  // namespace execgate
