// execgated (execgated.h has the run; docs/daemon.md the daemon).
#include "execgated.h"

int main(int argc, char** argv) { return execgate::execgated_main(argc, argv); }
