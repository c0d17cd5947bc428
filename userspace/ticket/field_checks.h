// Internal: the value checks shared by the validators (structs) and the strict parsers
// (JSON) of the ticket, revocation and delegation bodies. Each throws MalformedError
// "<what>: field '<field>': expected ...".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "execgate/ticket.h"
#include "strict_json.h"

namespace execgate::ticket_detail {

inline void check_id(const std::string& what, const std::string& field, const std::string& v) {
  if (!is_lower_hex(v, 32)) fail_field(what, field, "32 lower-case hex digits (a 128-bit ticket id)");
}

inline void check_time(const std::string& what, const std::string& field, std::int64_t v) {
  if (v < 0) fail_field(what, field, "unix seconds >= 0");
}

inline void check_text(const std::string& what, const std::string& field, const std::string& v, std::size_t max) {
  if (v.size() > max) fail_field(what, field, "at most " + std::to_string(max) + " bytes");
  if (v.find('\0') != std::string::npos || !ticket_detail::valid_utf8(v))
    fail_field(what, field, "valid UTF-8 text without NUL characters");
}

inline void check_path(const std::string& what, const std::string& field, const std::string& v) {
  check_text(what, field, v, kMaxPathBytes);
  if (v.empty() || v.front() != '/') fail_field(what, field, "an absolute path (starting with '/')");
}

inline void check_host(const std::string& what, const std::string& field, const std::string& v) {
  if (v != "*" && !is_lower_hex(v, 32))
    fail_field(what, field, "a machine-id (32 lower-case hex digits, as in /etc/machine-id) or \"*\"");
}

inline void check_window(const std::string& what, std::int64_t not_before, std::int64_t not_after) {
  if (!(not_before < not_after))
    throw MalformedError(what + ": field 'not_after': expected a time after not_before (" + std::to_string(not_before) +
                         "), got " + std::to_string(not_after));
}

inline void check_count(const std::string& what, const std::string& field, std::size_t n, std::size_t min, std::size_t max) {
  if (n < min || n > max)
    fail_field(what, field,
               "an array of " + std::to_string(min) + " to " + std::to_string(max) + " entries (got " +
                   std::to_string(n) + ")");
}

inline void check_job(const std::string& what, const std::string& field, const std::string& v) {
  if (!valid_job_id(v))
    fail_field(what, field,
               "a job id: 1 to " + std::to_string(kMaxJobIdBytes) + " characters of A-Z a-z 0-9 . _ -, the first a letter or digit");
}

inline std::string idx(const char* field, std::size_t i) { return std::string(field) + "[" + std::to_string(i) + "]"; }

// The id and the validity window every signed body but a revocation has.
inline void check_id_and_window(const std::string& what, const std::string& id, std::int64_t issued_at,
                                std::int64_t not_before, std::int64_t not_after) {
  check_id(what, "id", id);
  check_time(what, "issued_at", issued_at);
  check_time(what, "not_before", not_before);
  check_time(what, "not_after", not_after);
  check_window(what, not_before, not_after);
}

inline void read_id_and_window(const FieldReader& r, const std::string& what, std::string& id, std::int64_t& issued_at,
                               std::int64_t& not_before, std::int64_t& not_after) {
  id = r.string("id", 64);
  issued_at = r.int64("issued_at");
  not_before = r.int64("not_before");
  not_after = r.int64("not_after");
  check_id_and_window(what, id, issued_at, not_before, not_after);
}

// `hosts`: 1..kMaxHosts machine ids or "*". Fields are named with r's prefix
// ("constraints.hosts[0]" in a delegation body).
inline std::vector<std::string> read_hosts(const FieldReader& r, const std::string& what) {
  std::vector<std::string> out;
  const nlohmann::json& hosts = r.array("hosts", 1, kMaxHosts);
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (!hosts[i].is_string()) r.fail(idx("hosts", i), "a string");
    out.push_back(hosts[i].get<std::string>());
    check_host(what, r.name(idx("hosts", i)), out.back());
  }
  return out;
}

// `uids` when present: 0..kMaxUids uids (0 to 4294967294).
inline std::vector<std::uint32_t> read_uids(const FieldReader& r) {
  std::vector<std::uint32_t> out;
  if (!r.has("uids")) return out;
  const nlohmann::json& uids = r.array("uids", 0, kMaxUids);
  for (std::size_t i = 0; i < uids.size(); ++i) {
    const nlohmann::json& u = uids[i];
    if (!u.is_number_unsigned() && !(u.is_number_integer() && u.get<std::int64_t>() >= 0))
      r.fail(idx("uids", i), "a uid from 0 to 4294967294");
    const std::uint64_t v = u.get<std::uint64_t>();
    if (v >= UINT32_MAX) r.fail(idx("uids", i), "a uid from 0 to 4294967294");
    out.push_back(static_cast<std::uint32_t>(v));
  }
  return out;
}

// `prefix` as a FieldReader's: "" at the top of a body, "constraints." in a delegation's.
inline void check_uids(const std::string& what, const std::vector<std::uint32_t>& uids,
                       const std::string& prefix = "") {
  check_count(what, prefix + "uids", uids.size(), 0, kMaxUids);
  for (std::size_t i = 0; i < uids.size(); ++i)
    if (uids[i] == UINT32_MAX) fail_field(what, prefix + idx("uids", i), "a uid from 0 to 4294967294");
}

inline void check_hosts(const std::string& what, const std::vector<std::string>& hosts,
                        const std::string& prefix = "") {
  check_count(what, prefix + "hosts", hosts.size(), 1, kMaxHosts);
  for (std::size_t i = 0; i < hosts.size(); ++i) check_host(what, prefix + idx("hosts", i), hosts[i]);
}

}  // namespace execgate::ticket_detail
