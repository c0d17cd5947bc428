// Internal to the CLI: the offline ticket verbs (keygen, issue, inspect, verify, revoke),
// split over ticket_*.cpp, and their shared output helpers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli.h"
#include "execgate/ticket.h"

namespace execgate::cli::ticket_verbs {

void add_keygen(CLI::App& app, Cli& cli);
void add_issue(CLI::App& app, Cli& cli);
void add_revoke(CLI::App& app, Cli& cli);
void add_inspect(CLI::App& app, Cli& cli);
void add_verify(CLI::App& app, Cli& cli);
void add_delegate(CLI::App& app, Cli& cli);

// A delegation file (execgate delegate -o): its chain, root first. Throws Error naming the
// file when it holds none, too many, or one that does not parse.
std::vector<std::string> read_delegation_file(const std::string& file);

// Largest ticket / revocation file the verbs read (the envelope limit).
inline constexpr std::size_t kMaxDocumentFile = dsse::kMaxEnvelopeBytes;

using execgate::cli::iso_time;
using execgate::cli::printable;
// Unsigned decimal (no sign, no spaces) no larger than max; throws Error(usage) naming opt.
std::uint64_t parse_unsigned(const std::string& opt, const std::string& text, std::uint64_t max);

}  // namespace execgate::cli::ticket_verbs
