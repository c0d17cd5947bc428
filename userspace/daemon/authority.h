// Judges a submitted envelope against the policy's issuers, this host and the lifecycle
// state (tombstones, spent set, installed ids). Pure logic: no kernel, no files.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "execgate/clock.h"
#include "execgate/policy.h"
#include "execgate/ticket.h"
#include "common/fs.h"
#include "state_store.h"
#include "ticket/refusal.h"
#include "ticket/trusted_issuers.h"

namespace execgate {

struct Judgement {
  VerifiedDocument doc;           // valid when !refusal
  const TrustedIssuer* issuer = nullptr;
  std::optional<Refusal> refusal;
  bool already_installed = false;  // same id and identical content: nothing to do
};

class Authority {
 public:
  Authority(std::vector<TrustedIssuer> issuers, std::string machine_id, const Clock& clock)
      : issuers_(std::move(issuers)), machine_id_(std::move(machine_id)), clock_(clock) {}

  Judgement judge(const std::string& envelope_json, const StateSnapshot& state) const;
  // Re-checks an installed ticket (start-up, SIGHUP): signature and issuer only.
  std::optional<Refusal> recheck(const std::string& envelope_json) const;

  const TrustedIssuer* issuer_for(const std::string& key_id) const;
  const std::vector<TrustedIssuer>& issuers() const { return issuers_; }

 private:
  std::vector<TrustedIssuer> issuers_;
  std::string machine_id_;
  const Clock& clock_;
};

// sha256 hex of an envelope's bytes: identifies "the same content".
std::string envelope_digest(const std::string& envelope_json);

}  // namespace execgate
