// Typed errors of the ticket library (execgate_ticket). All derive from execgate::Error.
#pragma once

#include <string>

#include "execgate/error.h"
#include "execgate/names.h"

namespace execgate {

// A document (envelope or body) failed verification, for a refusal reason of the contract
// (execgate/names.h): bad_signature, untrusted_issuer, expired, not_yet_valid, or malformed
// (parse / validation problems; the message names the field and what was expected).
// reason() is its name.
class VerificationError : public Error {
 public:
  VerificationError(RefusalReason reason, const std::string& detail)
      : Error(ErrorKind::verification, std::string(name(reason)) + ": " + detail),
        refusal_(reason),
        reason_(name(reason)) {}
  RefusalReason refusal() const noexcept { return refusal_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  RefusalReason refusal_;
  std::string reason_;
};

// Shorthand for VerificationError(RefusalReason::malformed, ...).
class MalformedError : public VerificationError {
 public:
  explicit MalformedError(const std::string& detail) : VerificationError(RefusalReason::malformed, detail) {}
};

}  // namespace execgate
