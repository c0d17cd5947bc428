// Ticket and revocation bodies: validation, canonical serialization, strict parsing.
#include <cctype>
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "execgate/keys.h"
#include "execgate/ticket.h"
#include "field_checks.h"
#include "strict_json.h"

namespace execgate {

using nlohmann::json;
using namespace ticket_detail;

namespace {

const std::string kTicket = "ticket body";
const std::string kRevocation = "revocation body";

}  // namespace

std::string new_ticket_id() {
  ensure_sodium();
  std::array<std::uint8_t, 16> r{};
  randombytes_buf(r.data(), r.size());
  return hex_encode(r);
}

bool valid_job_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxJobIdBytes || !std::isalnum(static_cast<unsigned char>(id.front()))) return false;
  for (unsigned char c : id)
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

void validate_ticket_body(const TicketBody& b) {
  const std::string& w = kTicket;
  check_id_and_window(w, b.id, b.issued_at, b.not_before, b.not_after);
  check_count(w, "subjects", b.subjects.size(), 1, kMaxSubjects);
  for (std::size_t i = 0; i < b.subjects.size(); ++i)
    if (b.subjects[i].path) check_path(w, idx("subjects", i) + ".path", *b.subjects[i].path);
  check_hosts(w, b.hosts);
  check_uids(w, b.uids);
  if (b.parent) check_id(w, "parent", *b.parent);
  check_count(w, "delegation", b.delegation.size(), 0, kMaxDelegationDepth);
  for (std::size_t i = 0; i < b.delegation.size(); ++i)
    if (b.delegation[i].empty() || b.delegation[i].size() > dsse::kMaxEnvelopeBytes)
      fail_field(w, idx("delegation", i), "a delegation envelope (JSON text, 1 to 65536 bytes)");
  check_text(w, "initiator", b.initiator, kMaxTextBytes);
  check_text(w, "purpose", b.purpose, kMaxTextBytes);
  check_text(w, "policy", b.policy, kMaxPolicyNameBytes);
  if (b.job) {
    check_job(w, "job", *b.job);
    if (b.max_uses != 0) fail_field(w, "max_uses", "absent: a job-bound ticket's uses are bounded by its job");
  }
}

void validate_revocation_body(const RevocationBody& b) {
  const std::string& w = kRevocation;
  check_id(w, "id", b.id);
  check_count(w, "revoked", b.revoked.size(), 1, kMaxRevoked);
  for (std::size_t i = 0; i < b.revoked.size(); ++i) check_id(w, idx("revoked", i), b.revoked[i]);
  check_time(w, "issued_at", b.issued_at);
  check_text(w, "reason", b.reason, kMaxTextBytes);
}

// Canonical form: nlohmann::json::dump() of an object with sorted keys, no whitespace,
// minimal string escaping, raw UTF-8; optional fields omitted when absent/empty/zero.
std::string serialize_ticket_body(const TicketBody& b) {
  validate_ticket_body(b);
  json j = json::object();
  j["id"] = b.id;
  j["issued_at"] = b.issued_at;
  j["not_before"] = b.not_before;
  j["not_after"] = b.not_after;
  json subjects = json::array();
  for (const auto& s : b.subjects) {
    json o = json::object();
    o["sha256"] = hex_encode(s.sha256);
    if (s.path) o["path"] = *s.path;
    subjects.push_back(std::move(o));
  }
  j["subjects"] = std::move(subjects);
  j["hosts"] = b.hosts;
  if (!b.uids.empty()) j["uids"] = b.uids;
  if (b.max_uses != 0) j["max_uses"] = b.max_uses;
  if (b.parent) j["parent"] = *b.parent;
  j["initiator"] = b.initiator;
  j["purpose"] = b.purpose;
  j["policy"] = b.policy;
  if (!b.delegation.empty()) j["delegation"] = b.delegation;
  if (b.job) j["job"] = *b.job;
  if (b.builder) j["builder"] = true;
  return j.dump();
}

std::string serialize_revocation_body(const RevocationBody& b) {
  validate_revocation_body(b);
  json j = json::object();
  j["id"] = b.id;
  j["revoked"] = b.revoked;
  j["issued_at"] = b.issued_at;
  j["reason"] = b.reason;
  return j.dump();
}

TicketBody parse_ticket_body(std::string_view text) {
  const std::string& w = kTicket;
  json doc = ticket_detail::parse_strict(text, w, 4);
  FieldReader r(doc, w);
  r.only({"id", "issued_at", "not_before", "not_after", "subjects", "hosts", "uids", "max_uses", "parent",
          "initiator", "purpose", "policy", "delegation", "job", "builder"});
  TicketBody b;
  read_id_and_window(r, w, b.id, b.issued_at, b.not_before, b.not_after);

  const json& subjects = r.array("subjects", 1, kMaxSubjects);
  b.subjects.reserve(subjects.size());
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    FieldReader s(subjects[i], w, idx("subjects", i) + ".");
    s.only({"sha256", "path"});
    std::string hex = s.string("sha256", 128);
    if (!is_lower_hex(hex, 64)) s.fail("sha256", "64 lower-case hex digits");
    Subject subj;
    Bytes raw = hex_decode(hex);
    std::copy(raw.begin(), raw.end(), subj.sha256.begin());
    if (s.has("path")) {
      subj.path = s.string("path", kMaxPathBytes);
      check_path(w, s.name("path"), *subj.path);
    }
    b.subjects.push_back(std::move(subj));
  }

  b.hosts = read_hosts(r, w);
  b.uids = read_uids(r);
  if (r.has("max_uses")) b.max_uses = r.uint64("max_uses");
  if (r.has("parent")) {
    b.parent = r.string("parent", 64);
    check_id(w, "parent", *b.parent);
  }
  if (r.has("initiator")) b.initiator = r.string("initiator", kMaxTextBytes);
  if (r.has("purpose")) b.purpose = r.string("purpose", kMaxTextBytes);
  if (r.has("policy")) b.policy = r.string("policy", kMaxPolicyNameBytes);
  if (r.has("delegation")) {
    const json& chain = r.array("delegation", 1, kMaxDelegationDepth);
    for (std::size_t i = 0; i < chain.size(); ++i) {
      if (!chain[i].is_string() || chain[i].get_ref<const std::string&>().empty() ||
          chain[i].get_ref<const std::string&>().size() > dsse::kMaxEnvelopeBytes)
        fail_field(w, idx("delegation", i), "a delegation envelope (JSON text, 1 to 65536 bytes)");
      b.delegation.push_back(chain[i].get<std::string>());
    }
  }
  if (r.has("job")) {
    b.job = r.string("job", kMaxJobIdBytes);
    check_job(w, "job", *b.job);
    if (b.max_uses != 0) r.fail("max_uses", "absent: a job-bound ticket's uses are bounded by its job");
  }
  b.builder = r.boolean("builder");
  return b;
}

RevocationBody parse_revocation_body(std::string_view text) {
  const std::string& w = kRevocation;
  json doc = ticket_detail::parse_strict(text, w, 4);
  FieldReader r(doc, w);
  r.only({"id", "revoked", "issued_at", "reason"});
  RevocationBody b;
  b.id = r.string("id", 64);
  check_id(w, "id", b.id);
  const json& revoked = r.array("revoked", 1, kMaxRevoked);
  for (std::size_t i = 0; i < revoked.size(); ++i) {
    if (!revoked[i].is_string()) fail_field(w, idx("revoked", i), "a string");
    b.revoked.push_back(revoked[i].get<std::string>());
    check_id(w, idx("revoked", i), b.revoked.back());
  }
  b.issued_at = r.int64("issued_at");
  check_time(w, "issued_at", b.issued_at);
  if (r.has("reason")) b.reason = r.string("reason", kMaxTextBytes);
  return b;
}

}  // namespace execgate
