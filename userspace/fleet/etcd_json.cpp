// The v3 gateway's JSON: request bodies and strict parsers (see etcd_json.h).
#include "fleet/etcd_json.h"

#include <charconv>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/encoding.h"

namespace execgate::fleet {

using nlohmann::json;

namespace {

// Deeper than any response of the v3 API (a watch event's kv is at depth 5).
constexpr int max_json_depth = 32;
// How much of etcd's message or of an unexpected body an error message quotes.
constexpr std::size_t max_quoted = 512;

[[noreturn]] void fail(const std::string& what, const std::string& detail) {
  throw EtcdError(EtcdErrorKind::protocol, what + ": " + detail);
}

// Printable ASCII of s, the rest as '?', at most max_quoted bytes: safe in any message.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, max_quoted)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (s.size() > max_quoted) out += "...";
  return out;
}

// Parses text as one JSON value; nullopt when it is not valid JSON (syntax, UTF-8).
// Nesting deeper than max_json_depth throws.
std::optional<json> parse_json(std::string_view text, const std::string& what) {
  const json::parser_callback_t depth_guard = [&what](int depth, json::parse_event_t, json&) {
    if (depth > max_json_depth) fail(what, "JSON nested deeper than " + std::to_string(max_json_depth));
    return true;
  };
  json j = json::parse(text.begin(), text.end(), depth_guard, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

json parse_object(std::string_view body, const std::string& what) {
  auto j = parse_json(body, what);
  if (!j) fail(what, "not valid JSON: " + printable(body));
  if (!j->is_object()) fail(what, "expected a JSON object");
  return std::move(*j);
}

std::string b64(std::string_view bytes) { return base64_encode(as_bytes(bytes)); }

std::string json_string(std::int64_t v) { return std::to_string(v); }

// Typed, total access to the fields of one object of a response: absent (or null) is the
// field's zero value, as the gateway omits zero fields; a wrong type throws naming
// "<what>: field '<path>'".
class Fields {
 public:
  Fields(const json& obj, std::string what, std::string path = {})
      : obj_(obj), what_(std::move(what)), path_(std::move(path)) {}

  const json* find(const char* key) const {
    auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }

  [[noreturn]] void fail_field(const char* key, const std::string& expected) const {
    fail(what_, "field '" + path_ + key + "': expected " + expected);
  }

  std::int64_t int64(const char* key, std::int64_t min = std::numeric_limits<std::int64_t>::min()) const {
    const json* v = find(key);
    if (!v) return 0;
    std::int64_t out = 0;
    if (v->is_string()) {
      const auto& s = v->get_ref<const std::string&>();
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        fail_field(key, "a decimal int64 in a string, got \"" + printable(s) + "\"");
    } else if (v->is_number_unsigned()) {
      const auto u = v->get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) fail_field(key, "an int64");
      out = static_cast<std::int64_t>(u);
    } else if (v->is_number_integer()) {
      out = v->get<std::int64_t>();
    } else {
      fail_field(key, "an int64 (a decimal string)");
    }
    if (out < min) fail_field(key, "a value >= " + std::to_string(min) + ", got " + std::to_string(out));
    return out;
  }

  std::int64_t revision(const char* key) const { return int64(key, 0); }

  bool boolean(const char* key) const {
    const json* v = find(key);
    if (!v) return false;
    if (!v->is_boolean()) fail_field(key, "true or false");
    return v->get<bool>();
  }

  std::string text(const char* key) const {
    const json* v = find(key);
    if (!v) return {};
    if (!v->is_string()) fail_field(key, "a string");
    return v->get<std::string>();
  }

  // A base64 field (keys, values): its decoded bytes.
  std::string bytes(const char* key) const {
    const std::string s = text(key);
    try {
      const Bytes raw = base64_decode(s);
      return std::string(raw.begin(), raw.end());
    } catch (const Error&) {
      fail_field(key, "base64 (standard alphabet, '=' padding)");
    }
  }

  const json* object(const char* key) const {
    const json* v = find(key);
    if (v && !v->is_object()) fail_field(key, "an object");
    return v;
  }

  const json* array(const char* key) const {
    const json* v = find(key);
    if (v && !v->is_array()) fail_field(key, "an array");
    return v;
  }

  Fields sub(const json& obj, const std::string& name) const { return Fields(obj, what_, path_ + name + "."); }

 private:
  const json& obj_;
  std::string what_, path_;
};

// The header's revision; the header is required (etcd sends it with every response).
std::int64_t header_revision(const Fields& f) {
  const json* h = f.object("header");
  if (!h) f.fail_field("header", "the response header");
  return f.sub(*h, "header").revision("revision");
}

// Element i of an array field, which must be an object.
const json& element(const Fields& f, const char* array, const json& item, std::size_t i) {
  if (!item.is_object()) f.fail_field(array, "an array of objects (element " + std::to_string(i) + ")");
  return item;
}

KeyValue parse_kv(const Fields& kv) {
  KeyValue out;
  out.key = kv.bytes("key");
  if (out.key.empty()) kv.fail_field("key", "a non-empty key");
  out.value = kv.bytes("value");
  out.create_revision = kv.revision("create_revision");
  out.mod_revision = kv.revision("mod_revision");
  out.version = kv.int64("version", 0);
  return out;
}

std::string dump_request(const json& j) {
  try {
    return j.dump();
  } catch (const json::exception&) {
    throw EtcdError(EtcdErrorKind::protocol, "etcd request: a string is not valid UTF-8");
  }
}

}  // namespace

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::string auth_request_json(std::string_view name, std::string_view password) {
  return dump_request({{"name", std::string(name)}, {"password", std::string(password)}});
}

std::string range_request_json(std::string_view key, std::string_view range_end, std::int64_t revision,
                               std::int64_t limit, bool keys_only, bool newest_first) {
  json j = {{"key", b64(key)}};
  if (newest_first) {
    j["sort_order"] = "DESCEND";
    j["sort_target"] = "MOD";
  }
  if (!range_end.empty()) j["range_end"] = b64(range_end);
  if (revision > 0) j["revision"] = json_string(revision);
  if (limit > 0) j["limit"] = json_string(limit);
  if (keys_only) j["keys_only"] = true;
  return j.dump();
}

std::string put_request_json(std::string_view key, std::string_view value) {
  return json{{"key", b64(key)}, {"value", b64(value)}}.dump();
}

std::string delete_request_json(std::string_view key, std::string_view range_end) {
  json j = {{"key", b64(key)}};
  if (!range_end.empty()) j["range_end"] = b64(range_end);
  return j.dump();
}

std::string create_txn_json(std::string_view key, std::string_view value) {
  const json compare = {{"result", "EQUAL"}, {"target", "CREATE"}, {"key", b64(key)}, {"create_revision", "0"}};
  const json put = {{"request_put", {{"key", b64(key)}, {"value", b64(value)}}}};
  return json{{"compare", json::array({compare})}, {"success", json::array({put})}}.dump();
}

std::string compact_request_json(std::int64_t revision) {
  return json{{"revision", json_string(revision)}, {"physical", true}}.dump();
}

std::string watch_create_json(std::string_view key, std::string_view range_end, std::int64_t start_revision) {
  json create = {{"key", b64(key)}, {"progress_notify", true}};
  if (!range_end.empty()) create["range_end"] = b64(range_end);
  if (start_revision > 0) create["start_revision"] = json_string(start_revision);
  return json{{"create_request", std::move(create)}}.dump();
}

RangeResult parse_range(std::string_view body) {
  const std::string what = "range response";
  const json j = parse_object(body, what);
  const Fields f(j, what);
  RangeResult out;
  out.revision = header_revision(f);
  out.more = f.boolean("more");
  out.count = f.int64("count", 0);
  if (const json* kvs = f.array("kvs")) {
    out.kvs.reserve(kvs->size());
    for (std::size_t i = 0; i < kvs->size(); ++i)
      out.kvs.push_back(parse_kv(f.sub(element(f, "kvs", (*kvs)[i], i), "kvs[" + std::to_string(i) + "]")));
  }
  return out;
}

std::int64_t parse_put(std::string_view body) {
  const json j = parse_object(body, "put response");
  return header_revision(Fields(j, "put response"));
}

std::int64_t parse_delete(std::string_view body) {
  const json j = parse_object(body, "delete response");
  const Fields f(j, "delete response");
  f.int64("deleted", 0);  // checked, not returned
  return header_revision(f);
}

bool parse_txn_succeeded(std::string_view body) {
  const json j = parse_object(body, "txn response");
  const Fields f(j, "txn response");
  header_revision(f);
  return f.boolean("succeeded");
}

std::int64_t parse_compact(std::string_view body) {
  const json j = parse_object(body, "compaction response");
  return header_revision(Fields(j, "compaction response"));
}

std::string parse_auth_token(std::string_view body) {
  const json j = parse_object(body, "authenticate response");
  const Fields f(j, "authenticate response");
  std::string token = f.text("token");
  if (token.empty()) f.fail_field("token", "a non-empty token");
  for (char c : token)
    if (c < 0x21 || c > 0x7e) f.fail_field("token", "printable ASCII (it is sent as a header)");
  return token;
}

WatchResponse parse_watch_message(std::string_view message) {
  const std::string what = "watch message";
  const json j = parse_object(message, what);
  if (j.contains("error")) throw gateway_error(message, 200, "watch stream");
  const Fields top(j, what);
  const json* result = top.object("result");
  if (!result) top.fail_field("result", "the watch response (or an error)");
  const Fields f = top.sub(*result, "result");
  WatchResponse out;
  out.revision = header_revision(f);
  out.watch_id = f.int64("watch_id");
  out.created = f.boolean("created");
  out.canceled = f.boolean("canceled");
  out.compact_revision = f.revision("compact_revision");
  out.cancel_reason = f.text("cancel_reason");
  if (const json* events = f.array("events")) {
    out.events.reserve(events->size());
    for (std::size_t i = 0; i < events->size(); ++i) {
      const std::string name = "events[" + std::to_string(i) + "]";
      const Fields ev = f.sub(element(f, "events", (*events)[i], i), name);
      WatchEvent event;
      const std::string type = ev.text("type");
      if (type == "DELETE")
        event.type = WatchEvent::Type::del;
      else if (!type.empty() && type != "PUT")
        ev.fail_field("type", "PUT or DELETE, got \"" + printable(type) + "\"");
      const json* kv = ev.object("kv");
      if (!kv) ev.fail_field("kv", "the event's key-value");
      event.kv = parse_kv(ev.sub(*kv, "kv"));
      out.events.push_back(std::move(event));
    }
  }
  return out;
}

EtcdError gateway_error(std::string_view body, long http_status, std::string_view context) {
  const std::string lead = context.empty() ? std::string() : std::string(context) + ": ";
  std::optional<json> j;
  try {
    j = parse_json(body, "error response");
  } catch (const EtcdError&) {
    j.reset();  // nested too deeply: not an error object either
  }
  std::string message;
  int code = 0;
  bool found = false;
  if (j && j->is_object() && j->contains("error")) {
    const json& e = (*j)["error"];
    const json* msg = nullptr;
    const json* c = nullptr;
    if (e.is_string()) {  // unary: {"error":"...","code":N,"message":"..."}
      msg = j->contains("message") && (*j)["message"].is_string() ? &(*j)["message"] : &e;
      c = j->contains("code") ? &(*j)["code"] : nullptr;
    } else if (e.is_object()) {  // stream: {"error":{"grpc_code":N,"message":"..."}}
      msg = e.contains("message") && e["message"].is_string() ? &e["message"] : nullptr;
      c = e.contains("grpc_code") ? &e["grpc_code"] : nullptr;
    }
    if (msg) {
      found = true;
      message = msg->get<std::string>();
      if (c && c->is_number_integer() && c->get<std::int64_t>() >= 0 && c->get<std::int64_t>() <= 16)
        code = static_cast<int>(c->get<std::int64_t>());
    }
  }
  if (!found) {
    if (http_status >= 500)
      return EtcdError(EtcdErrorKind::unavailable, lead + "unavailable: HTTP " + std::to_string(http_status));
    return EtcdError(EtcdErrorKind::protocol, lead + "unexpected response (HTTP " + std::to_string(http_status) +
                                                  "): " + (body.empty() ? std::string("empty body") : printable(body)));
  }
  EtcdErrorKind kind = classify_etcd_error(code, message);
  if (kind == EtcdErrorKind::protocol && http_status >= 500) kind = EtcdErrorKind::unavailable;
  const std::string shown = message.empty() ? std::string("(no message)") : printable(message);
  return EtcdError(kind, lead + std::string(to_string(kind)) + ": " + shown, message);
}

void JsonStreamSplitter::feed(std::string_view bytes) {
  for (const char c : bytes) {
    if (depth_ == 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
      if (c != '{') {
        const unsigned byte = static_cast<unsigned char>(c);
        fail("watch stream", "expected '{' starting a message, got byte " + std::to_string(byte));
      }
      partial_.push_back(c);
      depth_ = 1;
      continue;
    }
    if (partial_.size() >= max_message_)
      fail("watch stream", "a message longer than " + std::to_string(max_message_) + " bytes");
    partial_.push_back(c);
    if (in_string_) {
      if (escape_)
        escape_ = false;
      else if (c == '\\')
        escape_ = true;
      else if (c == '"')
        in_string_ = false;
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if ((c == '}' || c == ']') && --depth_ == 0) {
      ready_.push_back(std::move(partial_));
      partial_.clear();
    }
  }
}

std::optional<std::string> JsonStreamSplitter::next() {
  if (ready_.empty()) return std::nullopt;
  std::string out = std::move(ready_.front());
  ready_.pop_front();
  return out;
}

}  // namespace execgate::fleet
