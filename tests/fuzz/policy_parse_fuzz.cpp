// libFuzzer target: the policy parser (userspace/policy/policy.cpp) on any text must
// never crash and never throw anything but PolicyError (which names the source), and a
// policy it accepts must hold what the parser promises (docs/daemon.md "Policy").
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "execgate/policy.h"

using execgate::fuzz::die;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace execgate;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const Policy p = parse_policy(text, "fuzz.toml");
    for (const auto& issuer : p.issuers)
      if (issuer.name.empty() || issuer.pubkey.empty()) die("accepted an issuer without name or pubkey");
    if (p.audit.path.empty()) die("accepted a policy without an audit path");
  } catch (const PolicyError& e) {
    if (std::string(e.what()).find("fuzz.toml") == std::string::npos) die("a policy error that does not name its source", e.what());
  }
  return 0;
}
