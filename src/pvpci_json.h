/*
 * The documents `pvpci ... --json` prints (described in doc/schema/):
 * their top level, and the parts that are the CLI's rather than the
 * library's.  Each verb prints a whole document when it succeeds and
 * nothing on stdout when it fails.
 */
#ifndef PVPCI_CLI_JSON_H
#define PVPCI_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "pvpci/confspace.h"
#include "pvpci/hostdev.h"
#include "pvpci/toolstack.h"
#include "view_json.h"	/* lib/: json.h and the members of a function */

/* A document begun: its object open, "schema_version" written.  NULL
 * when out of memory. */
struct pvpci_json *cli_json_start(void);
/* rc 0: close the document and print it; then free j.  Returns rc, or 1
 * when the document could not be written. */
int cli_json_print(struct pvpci_json *j, int rc);

/* What the engine said about one function while view looked at it. */
struct cli_msgs {
	size_t n;
	int level[8];
	char text[8][256];
};
void cli_msgs_add(struct cli_msgs *m, int level, const char *msg);

/* One element of view's "functions": the guest view of cs or, cs NULL,
 * hd's identity and err, why it is not exportable; then m as "messages". */
void cli_json_view_function(struct pvpci_json *j, struct pvpci_hostdev *hd, struct pvpci_cs *cs,
			    const char *err, const struct cli_msgs *m);

/* The whole document of `list --json` (domid >= 0, from devs) or
 * `assignable-list --json` (domid -1, from list). */
int cli_json_ts_list(int domid, const struct pvpci_ts_assignable *list,
		     const struct pvpci_ts_dev *devs, size_t n);

#endif
