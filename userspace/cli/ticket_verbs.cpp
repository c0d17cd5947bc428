// PLACEHOLDER (being written): ticket verbs.
#include "cli.h"
namespace execgate::cli {
void add_ticket_verbs(CLI::App&, Cli&) {}
}  // namespace execgate::cli
