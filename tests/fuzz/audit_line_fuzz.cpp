// libFuzzer target: the audit-line reader (parse_audit_line, userspace/audit/record.cpp).
//  * any bytes: never crashes; accepts only a line whose hash matches its canonical bytes;
//  * a JSON object as a record's contents: the line the writer's functions make of it is
//    accepted and gives back the same record.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "execgate/audit.h"

using execgate::fuzz::die;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace execgate;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  nlohmann::json record;
  std::string why;
  if (parse_audit_line(in, &record, &why)) {
    nlohmann::json body = record;
    body.erase("hash");
    if (audit_hash_hex(audit_canonical(body)) != record["hash"].get<std::string>())
      die("accepted a line whose hash is not its contents'", std::string(in));
  } else if (why.empty()) {
    die("refused a line without saying why", std::string(in));
  }
  nlohmann::json fields = nlohmann::json::parse(in.begin(), in.end(), nullptr, false);
  if (fields.is_object() && !fields.contains("hash")) {
    const std::string canonical = audit_canonical(fields);
    std::string line = audit_line(canonical, audit_hash_hex(canonical));
    line.pop_back();  // '\n'
    nlohmann::json back;
    if (!parse_audit_line(line, &back, &why)) die("refused a line the writer's functions made", why + ": " + line);
    back.erase("hash");
    if (audit_canonical(back) != canonical) die("a record did not round-trip", line);
  }
  return 0;
}
