/*
 * The verbs of pvpci that live in files of their own, and what they share
 * with src/pvpci.c.  Private to the pvpci program.
 */
#ifndef PVPCI_CMDS_H
#define PVPCI_CMDS_H

#include "pvpci/quirks.h"

/* Read and parse a quirks file; says why on stderr when it cannot. */
int pvpci_load_quirks(const char *path, struct pvpci_quirks **ret);

/* pvpci replay (src/pvpci_replay.c). */
int cmd_replay(int argc, char **argv);

#endif
