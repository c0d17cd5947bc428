// PLACEHOLDER (being written): audit verbs.
#include "cli.h"
namespace execgate::cli {
void add_audit_verbs(CLI::App&, Cli&) {}
}  // namespace execgate::cli
