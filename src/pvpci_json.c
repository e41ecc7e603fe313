/*
 * pvpci's --json documents: the top level and the members that come from
 * the CLI (the engine's messages, the toolstack's lists).  The members of
 * a function come from lib/view.c, the syntax from lib/json.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pvpci_json.h"

struct pvpci_json *cli_json_start(void)
{
	struct pvpci_json *j = NULL;

	if (pvpci_json_new(PVPCI_JSON_PRETTY, &j) < 0)
		return NULL;
	pvpci_json_begin_object(j, NULL);
	pvpci_json_uint(j, "schema_version", 1);
	return j;
}

int cli_json_print(struct pvpci_json *j, int rc)
{
	const char *text;
	int r;

	if (!rc) {
		pvpci_json_end_object(j);
		r = pvpci_json_finish(j, &text, NULL);
		if (r < 0) {
			fprintf(stderr, "pvpci: cannot write JSON: %s\n", strerror(-r));
			rc = 1;
		} else if (printf("%s\n", text) < 0 || fflush(stdout) == EOF) {
			rc = 1;
		}
	}
	pvpci_json_free(j);
	return rc;
}

void cli_msgs_add(struct cli_msgs *m, int level, const char *msg)
{
	if (m->n >= sizeof(m->level) / sizeof(m->level[0]))
		return;
	m->level[m->n] = level;
	snprintf(m->text[m->n++], sizeof(m->text[0]), "%s", msg);
}

void cli_json_view_function(struct pvpci_json *j, struct pvpci_hostdev *hd, struct pvpci_cs *cs,
			    const char *err, const struct cli_msgs *m)
{
	static uint8_t cfg[PVPCI_CFG_EXP_SIZE];

	pvpci_json_begin_object(j, NULL);
	if (cs) {
		pvpci_view_json(j, cs, hd->desc);
	} else {
		if (pvpci_hostdev_read_all(hd, cfg) == 0)
			pvpci_view_json_ids(j, &hd->bdf, cfg, hd->desc);
		else
			pvpci_view_json_bdf(j, &hd->bdf);
		pvpci_json_bool(j, "exportable", false);
		pvpci_json_string(j, "error", err);
	}
	pvpci_json_begin_array(j, "messages");
	for (size_t i = 0; i < m->n; i++) {
		int l = m->level[i];

		pvpci_json_begin_object(j, NULL);
		pvpci_json_string(j, "level", l <= PVPCI_LOG_ERR ? "error" : l == PVPCI_LOG_WARNING ? "warning"
					      : l <= PVPCI_LOG_INFO ? "info" : "debug");
		pvpci_json_string(j, "text", m->text[i]);
		pvpci_json_end_object(j);
	}
	pvpci_json_end_array(j);
	pvpci_json_end_object(j);
}

int cli_json_ts_list(int domid, const struct pvpci_ts_assignable *list,
		     const struct pvpci_ts_dev *devs, size_t n)
{
	struct pvpci_json *j = cli_json_start();

	if (!j)
		return 1;
	if (domid >= 0)
		pvpci_json_uint(j, "domid", (unsigned)domid);
	pvpci_json_begin_array(j, "functions");
	for (size_t i = 0; i < n; i++) {
		pvpci_json_begin_object(j, NULL);
		pvpci_view_json_bdf(j, list ? &list[i].bdf : &devs[i].bdf);
		if (list) {
			pvpci_json_string(j, "name", list[i].name[0] ? list[i].name : NULL);
		} else {
			/* xl's Vdev column in numbers: slot << 3 | function */
			pvpci_json_uint(j, "vdevfn", devs[i].vdevfn);
			pvpci_json_uint(j, "vslot", devs[i].vdevfn >> 3);
			pvpci_json_uint(j, "vfunc", devs[i].vdevfn & 7);
		}
		pvpci_json_end_object(j);
	}
	pvpci_json_end_array(j);
	return cli_json_print(j, 0);
}
