/* lmc: the command line. All work happens in liblmc; commands register themselves (cli.h). */
#include "cli/cli.h"

int main(int argc, char **argv) { return lmc_cli_main(argc, argv); }
