// The v3 JSON gateway of etcd (grpc-gateway, under /v3/) as pure functions: the request
// bodies the client sends and the parsers of what etcd answers. No I/O, so every parser
// is unit-tested and fuzzed (tests/fuzz/etcd_response_fuzz.cpp).
//
// The gateway's encoding: keys and values are base64 (standard alphabet, padded); int64
// fields are JSON strings ("revision":"12"); a field equal to zero, false or empty is
// absent. The parsers are strict and total: any input gives a value or throws
// EtcdError(protocol) naming the field and what was wrong, never anything else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fleet/etcd_error.h"

namespace execgate::fleet {

struct KeyValue {
  std::string key, value;
  std::int64_t create_revision = 0, mod_revision = 0, version = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  std::int64_t revision = 0;  // the store's revision the range was read at
  bool more = false;          // a limit cut the range short
  std::int64_t count = 0;     // keys in the whole range (not only those returned)
};

struct WatchEvent {
  enum class Type { put, del } type = Type::put;
  KeyValue kv;  // a delete's kv has only the key and its mod_revision
};

struct WatchResponse {
  std::int64_t watch_id = 0;
  std::int64_t revision = 0;  // header revision: every change up to it has been sent
  bool created = false;
  bool canceled = false;
  std::int64_t compact_revision = 0;  // set when canceled because the start was compacted
  std::string cancel_reason;
  std::vector<WatchEvent> events;
  // A progress notification: nothing happened in the range up to `revision`.
  bool progress() const { return events.empty() && !created && !canceled; }
};

// etcd's range_end for every key starting with prefix: its last byte + 1, carrying over
// trailing 0xff bytes; "\0" (every key >= the start) when prefix is empty or all 0xff.
std::string prefix_end(std::string_view prefix);

// --- Request bodies (POST /v3/...). Empty range_end: the key alone; 0 revision: the newest.
std::string auth_request_json(std::string_view name, std::string_view password);  // auth/authenticate
// newest_first: sorted by mod_revision, the newest first (with limit 1: the range's newest key)
std::string range_request_json(std::string_view key, std::string_view range_end, std::int64_t revision,
                               std::int64_t limit, bool keys_only, bool newest_first = false);  // kv/range
std::string put_request_json(std::string_view key, std::string_view value);         // kv/put
std::string delete_request_json(std::string_view key, std::string_view range_end);  // kv/deleterange
// kv/txn: put key only if it does not exist (its create_revision is 0).
std::string create_txn_json(std::string_view key, std::string_view value);
std::string compact_request_json(std::int64_t revision);                            // kv/compaction (physical)
// watch: one create_request with progress_notify; start_revision 0: from now.
std::string watch_create_json(std::string_view key, std::string_view range_end, std::int64_t start_revision);

// --- Successful responses (HTTP 200).
RangeResult parse_range(std::string_view body);
std::int64_t parse_put(std::string_view body);         // the header revision
std::int64_t parse_delete(std::string_view body);      // the header revision
bool parse_txn_succeeded(std::string_view body);       // whether the compare held
std::int64_t parse_compact(std::string_view body);     // the header revision
std::string parse_auth_token(std::string_view body);   // the token of auth/authenticate
// One message of a watch stream: {"result":{...}}. A stream's error message ({"error":...})
// throws the error it carries, classified (classify_etcd_error).
WatchResponse parse_watch_message(std::string_view message);

// --- Errors. The gateway's error body, {"error":"...","code":N,"message":"..."} (or a
// stream's {"error":{"grpc_code":N,"message":"..."}}), as the EtcdError to throw, of the
// kind classify_etcd_error gives and with `context` ("etcd 127.0.0.1:2379: put \"/a\"")
// leading its message. http_status >= 500 with a body that is not an error object is
// unavailable; any other body that is not one is protocol.
EtcdError gateway_error(std::string_view body, long http_status, std::string_view context);

// Splits the byte stream of a watch (one JSON object per message, split across reads or
// several in one read) into messages, tracking braces, strings and escapes. Between
// messages only whitespace is allowed. feed() throws EtcdError(protocol) when the stream
// is not a sequence of objects or one message grows past max_message bytes; once it threw,
// the splitter is unusable.
class JsonStreamSplitter {
 public:
  explicit JsonStreamSplitter(std::size_t max_message = 64u << 20) : max_message_(max_message) {}

  void feed(std::string_view bytes);
  // The next complete message, in order, or nothing until more is fed.
  std::optional<std::string> next();
  // Bytes of a message begun but not complete.
  std::size_t pending() const noexcept { return partial_.size(); }

 private:
  std::size_t max_message_;
  std::deque<std::string> ready_;
  std::string partial_;  // the message being read, from its '{'
  std::size_t depth_ = 0;
  bool in_string_ = false, escape_ = false;
};

}  // namespace execgate::fleet
