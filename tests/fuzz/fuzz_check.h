// What every fuzz target does when an invariant breaks: say which, and abort (libFuzzer
// saves the input as a reproducer).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace execgate::fuzz {

[[noreturn]] inline void die(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "FUZZ INVARIANT BROKEN: %s %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace execgate::fuzz
