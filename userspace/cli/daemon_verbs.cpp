// PLACEHOLDER (being written): daemon verbs.
#include "cli.h"
namespace execgate::cli {
void add_daemon_verbs(CLI::App&, Cli&) {}
}  // namespace execgate::cli
