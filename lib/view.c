/*
 * Renderings of the guest's view: lspci text (read through the engine
 * exactly as a guest would read it, dword by dword), the policy table, and
 * the same facts as members of a JSON document (--json, doc/schema/).
 * Names come from pci.ids through libpci when it is available.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef HAVE_LIBPCI
#include <pci/pci.h>
#endif

#include "cs_internal.h"
#include "pvpci/dump.h"
#include "pvpci/view.h"
#include "view_json.h"

#ifdef HAVE_LIBPCI
static void libpci_quiet(char *msg, ...)
{
	(void)msg;
}
#endif

char *pvpci_describe(const uint8_t *cfg, char *buf, size_t len)
{
	unsigned vendor = cs_le(cfg, 2), device = cs_le(cfg + 2, 2), cls = cs_le(cfg + 0x0a, 2);
	unsigned rev = cfg[0x08];
	char rv[16] = "";
	if (rev)
		snprintf(rv, sizeof(rv), " (rev %02x)", rev);
#ifdef HAVE_LIBPCI
	{
		static struct pci_access *pacc;
		char cbuf[128], dbuf[256];

		if (!pacc) {
			pacc = pci_alloc();	/* names only: no access method is opened */
			if (pacc) {
				/* pci_init would set these; without them a name
				 * missing from pci.ids calls through NULL. */
				pacc->warning = pacc->debug = libpci_quiet;
			}
		}
		if (pacc) {
			pci_lookup_name(pacc, cbuf, sizeof(cbuf), PCI_LOOKUP_CLASS, cls);
			pci_lookup_name(pacc, dbuf, sizeof(dbuf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE,
					vendor, device);
			snprintf(buf, len, "%s: %s%s", cbuf, dbuf, rv);
			return buf;
		}
	}
#endif
	snprintf(buf, len, "Class %04x: Device %04x:%04x%s", cls, vendor, device, rv);
	return buf;
}

int pvpci_view_capture(FILE *f, struct pvpci_hostdev *hd, const uint8_t *cfg)
{
	struct pvpci_bar bars[PVPCI_NUM_BARS + 1];
	char d[200];

	for (unsigned b = 0; b <= PVPCI_ROM_BAR; b++)
		if (pvpci_hostdev_bar_info(hd, b, &bars[b]) < 0)
			bars[b] = (struct pvpci_bar){ .flags = PVPCI_BAR_UNUSED };
	return pvpci_dump_write(f, &hd->bdf, hd->desc[0] ? hd->desc : pvpci_describe(cfg, d, sizeof(d)),
				cfg, hd->cfg_size, bars);
}

/* The guest's config space, read as the guest would: one dword at a time. */
static int guest_image(struct pvpci_cs *cs, uint8_t *img)
{
	unsigned size = pvpci_cs_size(cs);

	for (unsigned off = 0; off < size; off += 4) {
		uint32_t v;

		if (pvpci_cs_read(cs, off, 4, &v) != PVPCI_ERR_success)
			v = 0xffffffffu;	/* what a failed config read looks like */
		for (unsigned b = 0; b < 4; b++)
			img[off + b] = (uint8_t)(v >> (8 * b));
	}
	return 0;
}

int pvpci_view_lspci(FILE *f, struct pvpci_cs *cs, const char *desc)
{
	uint8_t img[PVPCI_CFG_EXP_SIZE];
	char d[200];

	guest_image(cs, img);
	if (!desc || !*desc)
		desc = pvpci_describe(img, d, sizeof(d));
	return pvpci_dump_write(f, &pvpci_cs_hostdev(cs)->bdf, desc, img, pvpci_cs_size(cs), NULL);
}

static const struct pvpci_cap *cap_starting_at(const struct pvpci_cs *cs, unsigned off)
{
	for (size_t i = 0; i < cs->ncaps; i++)
		if (cs->caps[i].offset == off)
			return &cs->caps[i];
	return NULL;
}

/* One row of the policy: a register, or a run of bytes no register covers,
 * up to the next register or capability start. */
struct view_row {
	unsigned off, len;
	const struct pvpci_reg *reg;	/* NULL: a run of unhandled bytes */
	const struct pvpci_cap *cap;	/* the capability starting at off, or NULL */
	bool all_zero;			/* a run: the host's bytes are all 0 */
};

/* The row at *off, and *off moved past it; false at the end. */
static bool next_row(const struct pvpci_cs *cs, unsigned *off, struct view_row *row)
{
	unsigned end = *off + 1;

	if (*off >= cs->cfg_size)
		return false;
	*row = (struct view_row){ .off = *off, .reg = pvpci_cs_reg_at(cs, *off),
				  .cap = cap_starting_at(cs, *off), .all_zero = cs->snap[*off] == 0 };
	if (row->reg) {
		row->off = row->reg->offset;
		end = row->reg->offset + row->reg->size;
	} else {
		while (end < cs->cfg_size && !pvpci_cs_reg_at(cs, end) && !cap_starting_at(cs, end)) {
			row->all_zero &= cs->snap[end] == 0;
			end++;
		}
	}
	row->len = end - row->off;
	*off = end;
	return true;
}

int pvpci_view_table(FILE *f, struct pvpci_cs *cs, const char *desc)
{
	uint8_t img[PVPCI_CFG_EXP_SIZE];
	const uint8_t *host = cs->snap;
	unsigned size = cs->cfg_size, off = 0;
	char bdf[PVPCI_BDF_STRLEN], d[200];
	struct view_row row;

	guest_image(cs, img);
	if (!desc || !*desc)
		desc = pvpci_describe(host, d, sizeof(d));
	fprintf(f, "%s %s\n", pvpci_bdf_format(&cs->hd->bdf, bdf), desc);
	fprintf(f, "  config space: %u bytes; mode: %s\n", size, cs->opts.permissive ? "permissive" : "strict");
	fprintf(f, "  capabilities:");
	if (!cs->ncaps)
		fprintf(f, " none");
	for (size_t i = 0; i < cs->ncaps; i++)
		fprintf(f, " [%x%s] %s (%s)%s", cs->caps[i].offset, cs->caps[i].ext ? " ext" : "",
			cs->caps[i].name, cs->caps[i].visible ? "kept" : "hidden",
			i + 1 < cs->ncaps ? "," : "");
	fprintf(f, "\n");
	if (cs->chain_note[0])
		fprintf(f, "  chain: %s\n", cs->chain_note);
	fprintf(f, "  %-6s %-4s %-44s %-10s %-10s %s\n", "offset", "size", "register", "host", "guest",
		"policy");
	while (next_row(cs, &off, &row)) {
		const struct pvpci_reg *r = row.reg;
		const struct pvpci_cap *c = row.cap;

		if (c)
			fprintf(f, "  -- [%03x] %s: %s\n", c->offset, c->name,
				c->visible ? "kept" : "hidden (relinked)");
		if (r) {
			char hv[12], gv[12];

			snprintf(hv, sizeof(hv), "0x%0*x", r->size * 2, cs_le(host + r->offset, r->size));
			snprintf(gv, sizeof(gv), "0x%0*x", r->size * 2, cs_le(img + r->offset, r->size));
			fprintf(f, "  0x%03x  %-4u %-44s %-10s %-10s %s\n", r->offset, r->size, r->name, hv, gv,
				pvpci_reg_policy(r));
			continue;
		}
		fprintf(f, "  0x%03x  %-4u %-44s %-10s %-10s %s\n", row.off, row.len,
			!row.all_zero || row.len < 64 ? "(unhandled bytes)" : "(unused, all zero)",
			row.all_zero ? "zero" : "data", "as host",
			cs->opts.permissive ? "passthrough" : "passthrough reads, writes dropped");
	}
	return 0;
}

/* ---- JSON (doc/schema/): the same facts as the text, as members ---- */

void pvpci_view_json_bdf(struct pvpci_json *j, const struct pvpci_bdf *b)
{
	char s[PVPCI_BDF_STRLEN];

	pvpci_json_string(j, "bdf", pvpci_bdf_format(b, s));
	pvpci_json_uint(j, "domain", b->domain);
	pvpci_json_uint(j, "bus", b->bus);
	pvpci_json_uint(j, "dev", b->dev);
	pvpci_json_uint(j, "func", b->fn);
}

void pvpci_view_json_ids(struct pvpci_json *j, const struct pvpci_bdf *b, const uint8_t *cfg,
			 const char *desc)
{
	unsigned type = cfg[0x0e] & 0x7f;
	char d[200];

	pvpci_view_json_bdf(j, b);
	pvpci_json_string(j, "description", desc && *desc ? desc : pvpci_describe(cfg, d, sizeof(d)));
	pvpci_json_uint(j, "vendor_id", cs_le(cfg, 2));
	pvpci_json_uint(j, "device_id", cs_le(cfg + 2, 2));
	pvpci_json_uint(j, "class", cs_le(cfg + 0x09, 3));
	pvpci_json_uint(j, "revision", cfg[0x08]);
	pvpci_json_uint(j, "header_type", type);
	pvpci_json_bool(j, "multifunction", cfg[0x0e] & 0x80);
	/* Only a type 0 header has them there. */
	if (type == 0) {
		pvpci_json_uint(j, "subsystem_vendor_id", cs_le(cfg + 0x2c, 2));
		pvpci_json_uint(j, "subsystem_id", cs_le(cfg + 0x2e, 2));
	}
}

void pvpci_view_json(struct pvpci_json *j, struct pvpci_cs *cs, const char *desc)
{
	uint8_t img[PVPCI_CFG_EXP_SIZE];
	struct view_row row;
	unsigned off;

	guest_image(cs, img);
	pvpci_view_json_ids(j, &cs->hd->bdf, img, desc);
	pvpci_json_bool(j, "exportable", true);
	pvpci_json_bool(j, "permissive", cs->opts.permissive);
	pvpci_json_uint(j, "config_size", cs->cfg_size);
	pvpci_json_hex(j, "config", img, cs->cfg_size);
	pvpci_json_hex(j, "host_config", cs->snap, cs->cfg_size);
	pvpci_json_begin_array(j, "capabilities");
	for (size_t i = 0; i < cs->ncaps; i++) {
		const struct pvpci_cap *c = &cs->caps[i];

		pvpci_json_begin_object(j, NULL);
		pvpci_json_uint(j, "offset", c->offset);
		pvpci_json_uint(j, "id", c->id);
		pvpci_json_bool(j, "extended", c->ext);
		pvpci_json_string(j, "name", c->name);
		pvpci_json_uint(j, "length", c->len);
		pvpci_json_bool(j, "visible", c->visible);
		pvpci_json_end_object(j);
	}
	pvpci_json_end_array(j);
	pvpci_json_string(j, "chain_note", cs->chain_note[0] ? cs->chain_note : NULL);
	pvpci_json_begin_array(j, "registers");
	for (off = 0; next_row(cs, &off, &row);) {
		const struct pvpci_reg *r = row.reg;

		if (!r)
			continue;
		pvpci_json_begin_object(j, NULL);
		pvpci_json_uint(j, "offset", r->offset);
		pvpci_json_uint(j, "size", r->size);
		pvpci_json_string(j, "name", r->name);
		pvpci_json_string(j, "policy", pvpci_reg_policy(r));
		pvpci_json_uint(j, "host", cs_le(cs->snap + r->offset, r->size));
		pvpci_json_uint(j, "guest", cs_le(img + r->offset, r->size));
		pvpci_json_uint(j, "ro_mask", r->ro_mask);
		pvpci_json_uint(j, "rw1c_mask", r->rw1c_mask);
		pvpci_json_uint(j, "rsvdp_mask", r->rsvdp_mask);
		pvpci_json_uint(j, "rsvdz_mask", r->rsvdz_mask);
		pvpci_json_uint(j, "emu_mask", r->emu_mask);
		pvpci_json_end_object(j);
	}
	pvpci_json_end_array(j);
	pvpci_json_begin_array(j, "unhandled");
	for (off = 0; next_row(cs, &off, &row);) {
		if (row.reg)
			continue;
		pvpci_json_begin_object(j, NULL);
		pvpci_json_uint(j, "offset", row.off);
		pvpci_json_uint(j, "length", row.len);
		pvpci_json_bool(j, "all_zero", row.all_zero);
		pvpci_json_string(j, "writes", cs->opts.permissive ? "passthrough" : "dropped");
		pvpci_json_end_object(j);
	}
	pvpci_json_end_array(j);
}
