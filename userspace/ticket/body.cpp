// Ticket and revocation bodies: validation, canonical serialization, strict parsing.
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "execgate/keys.h"
#include "execgate/ticket.h"
#include "strict_json.h"

namespace execgate {

using nlohmann::json;
using ticket_detail::fail_field;
using ticket_detail::FieldReader;

namespace {

const std::string kTicket = "ticket body";
const std::string kRevocation = "revocation body";

// ---- value checks shared by validate_* (structs) and parse_* (JSON) ----

void check_id(const std::string& what, const std::string& field, const std::string& v) {
  if (!is_lower_hex(v, 32)) fail_field(what, field, "32 lower-case hex digits (a 128-bit ticket id)");
}

void check_time(const std::string& what, const std::string& field, std::int64_t v) {
  if (v < 0) fail_field(what, field, "unix seconds >= 0");
}

void check_text(const std::string& what, const std::string& field, const std::string& v, std::size_t max) {
  if (v.size() > max) fail_field(what, field, "at most " + std::to_string(max) + " bytes");
  if (v.find('\0') != std::string::npos || !ticket_detail::valid_utf8(v))
    fail_field(what, field, "valid UTF-8 text without NUL characters");
}

void check_path(const std::string& what, const std::string& field, const std::string& v) {
  check_text(what, field, v, kMaxPathBytes);
  if (v.empty() || v.front() != '/') fail_field(what, field, "an absolute path (starting with '/')");
}

void check_host(const std::string& what, const std::string& field, const std::string& v) {
  if (v != "*" && !is_lower_hex(v, 32))
    fail_field(what, field, "a machine-id (32 lower-case hex digits, as in /etc/machine-id) or \"*\"");
}

void check_window(const std::string& what, std::int64_t not_before, std::int64_t not_after) {
  if (!(not_before < not_after))
    throw MalformedError(what + ": field 'not_after': expected a time after not_before (" + std::to_string(not_before) +
                         "), got " + std::to_string(not_after));
}

void check_count(const std::string& what, const std::string& field, std::size_t n, std::size_t min, std::size_t max) {
  if (n < min || n > max)
    fail_field(what, field,
               "an array of " + std::to_string(min) + " to " + std::to_string(max) + " entries (got " +
                   std::to_string(n) + ")");
}

std::string idx(const char* field, std::size_t i) { return std::string(field) + "[" + std::to_string(i) + "]"; }

}  // namespace

std::string new_ticket_id() {
  ensure_sodium();
  std::array<std::uint8_t, 16> r{};
  randombytes_buf(r.data(), r.size());
  return hex_encode(r);
}

void validate_ticket_body(const TicketBody& b) {
  const std::string& w = kTicket;
  check_id(w, "id", b.id);
  check_time(w, "issued_at", b.issued_at);
  check_time(w, "not_before", b.not_before);
  check_time(w, "not_after", b.not_after);
  check_window(w, b.not_before, b.not_after);
  check_count(w, "subjects", b.subjects.size(), 1, kMaxSubjects);
  for (std::size_t i = 0; i < b.subjects.size(); ++i)
    if (b.subjects[i].path) check_path(w, idx("subjects", i) + ".path", *b.subjects[i].path);
  check_count(w, "hosts", b.hosts.size(), 1, kMaxHosts);
  for (std::size_t i = 0; i < b.hosts.size(); ++i) check_host(w, idx("hosts", i), b.hosts[i]);
  check_count(w, "uids", b.uids.size(), 0, kMaxUids);
  for (std::size_t i = 0; i < b.uids.size(); ++i)
    if (b.uids[i] == UINT32_MAX) fail_field(w, idx("uids", i), "a uid from 0 to 4294967294");
  if (b.parent) check_id(w, "parent", *b.parent);
  check_text(w, "initiator", b.initiator, kMaxTextBytes);
  check_text(w, "purpose", b.purpose, kMaxTextBytes);
  check_text(w, "policy", b.policy, kMaxPolicyNameBytes);
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
          "initiator", "purpose", "policy"});
  TicketBody b;
  b.id = r.string("id", 64);
  check_id(w, "id", b.id);
  b.issued_at = r.int64("issued_at");
  check_time(w, "issued_at", b.issued_at);
  b.not_before = r.int64("not_before");
  check_time(w, "not_before", b.not_before);
  b.not_after = r.int64("not_after");
  check_time(w, "not_after", b.not_after);
  check_window(w, b.not_before, b.not_after);

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

  const json& hosts = r.array("hosts", 1, kMaxHosts);
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (!hosts[i].is_string()) fail_field(w, idx("hosts", i), "a string");
    b.hosts.push_back(hosts[i].get<std::string>());
    check_host(w, idx("hosts", i), b.hosts.back());
  }
  if (r.has("uids")) {
    const json& uids = r.array("uids", 0, kMaxUids);
    for (std::size_t i = 0; i < uids.size(); ++i) {
      const json& u = uids[i];
      if (!u.is_number_unsigned() && !(u.is_number_integer() && u.get<std::int64_t>() >= 0))
        fail_field(w, idx("uids", i), "a uid from 0 to 4294967294");
      std::uint64_t v = u.get<std::uint64_t>();
      if (v >= UINT32_MAX) fail_field(w, idx("uids", i), "a uid from 0 to 4294967294");
      b.uids.push_back(static_cast<std::uint32_t>(v));
    }
  }
  if (r.has("max_uses")) b.max_uses = r.uint64("max_uses");
  if (r.has("parent")) {
    b.parent = r.string("parent", 64);
    check_id(w, "parent", *b.parent);
  }
  if (r.has("initiator")) b.initiator = r.string("initiator", kMaxTextBytes);
  if (r.has("purpose")) b.purpose = r.string("purpose", kMaxTextBytes);
  if (r.has("policy")) b.policy = r.string("policy", kMaxPolicyNameBytes);
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
