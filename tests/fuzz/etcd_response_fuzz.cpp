// libFuzzer target: what etcd's v3 gateway answers (userspace/fleet/etcd_json.cpp). Any
// bytes given to the range / put / txn / auth parsers, to the watch message parser, to
// the error mapping and to the watch stream's splitter give a value or an EtcdError,
// never a crash or another exception; the splitter yields the same messages however the
// stream is cut into reads; prefix_end is past every key under its prefix.
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "fleet/etcd_json.h"
#include "fuzz_check.h"

namespace {

using namespace execgate::fleet;

// Runs a parser: a value or an EtcdError (of kind `kind` unless any kind is allowed).
template <class F>
void total(const char* what, F&& f, bool any_kind = false) {
  try {
    f();
  } catch (const EtcdError& e) {
    if (!any_kind && e.kind() != EtcdErrorKind::protocol) execgate::fuzz::die(what, "an EtcdError not of kind protocol");
    if (std::string_view(e.what()).empty()) execgate::fuzz::die(what, "an empty message");
  } catch (const std::exception& e) {
    execgate::fuzz::die(what, std::string("threw something else: ") + e.what());
  }
}

std::vector<std::string> split(std::string_view stream, std::size_t cut, std::size_t max) {
  JsonStreamSplitter s(max);
  std::vector<std::string> out;
  try {
    s.feed(stream.substr(0, cut));
    while (auto m = s.next()) out.push_back(*m);
    s.feed(stream.substr(cut));
    while (auto m = s.next()) out.push_back(*m);
  } catch (const EtcdError& e) {
    if (e.kind() != EtcdErrorKind::protocol) execgate::fuzz::die("splitter", "an EtcdError not of kind protocol");
    while (auto m = s.next()) out.push_back(*m);  // those complete before the error
    out.push_back("<error>");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  total("parse_range", [&] {
    const RangeResult r = parse_range(in);
    if (r.revision < 0 || r.count < 0) execgate::fuzz::die("parse_range", "a negative revision or count");
    for (const auto& kv : r.kvs)
      if (kv.key.empty() || kv.create_revision < 0 || kv.mod_revision < 0 || kv.version < 0)
        execgate::fuzz::die("parse_range", "an empty key or a negative revision");
  });
  total("parse_put", [&] { parse_put(in); });
  total("parse_delete", [&] { parse_delete(in); });
  total("parse_txn_succeeded", [&] { parse_txn_succeeded(in); });
  total("parse_auth_token", [&] {
    if (parse_auth_token(in).empty()) execgate::fuzz::die("parse_auth_token", "an empty token");
  });
  // a stream's error message throws the error it carries, of any kind
  total("parse_watch_message", [&] { parse_watch_message(in); }, /*any_kind=*/true);
  total("gateway_error", [&] {
    const long status = size > 0 ? 400 + data[0] % 200 : 500;
    const EtcdError e = gateway_error(in, status, "etcd fuzz");
    if (std::string_view(e.what()).rfind("etcd fuzz: ", 0) != 0) execgate::fuzz::die("gateway_error", "no context");
  });

  // the same messages (or the same failure) whatever the cut; each message parses totally
  const std::size_t max = 4096;
  const auto whole = split(in, size, max);
  for (std::size_t cut : {std::size_t{0}, size / 3, size / 2, size > 0 ? size - 1 : 0})
    if (split(in, cut, max) != whole) execgate::fuzz::die("splitter", "messages depend on the cut");
  for (const auto& m : whole) {
    if (m == "<error>") continue;
    if (m.size() > max || m.front() != '{' || (m.back() != '}' && m.back() != ']'))
      execgate::fuzz::die("splitter", "a message that is not one bounded object: " + m);
    total("parse_watch_message", [&] { parse_watch_message(m); }, /*any_kind=*/true);
  }

  const std::string end = prefix_end(in);
  if (end != std::string(1, '\0') && !(std::string_view(end) > in))
    execgate::fuzz::die("prefix_end", "not past the prefix");
  return 0;
}
