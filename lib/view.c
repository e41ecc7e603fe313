/*
 * Renderings of the guest's view: lspci text (read through the engine
 * exactly as a guest would read it, dword by dword) and the policy table.
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

int pvpci_view_table(FILE *f, struct pvpci_cs *cs, const char *desc)
{
	uint8_t img[PVPCI_CFG_EXP_SIZE];
	const uint8_t *host = cs->snap;
	unsigned size = cs->cfg_size, off = 0;
	char bdf[PVPCI_BDF_STRLEN], d[200];

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
	while (off < size) {
		const struct pvpci_reg *r = pvpci_cs_reg_at(cs, off);
		const struct pvpci_cap *c = cap_starting_at(cs, off);

		if (c)
			fprintf(f, "  -- [%03x] %s: %s\n", c->offset, c->name,
				c->visible ? "kept" : "hidden (relinked)");
		if (r) {
			char hv[12], gv[12];

			snprintf(hv, sizeof(hv), "0x%0*x", r->size * 2, cs_le(host + r->offset, r->size));
			snprintf(gv, sizeof(gv), "0x%0*x", r->size * 2, cs_le(img + r->offset, r->size));
			fprintf(f, "  0x%03x  %-4u %-44s %-10s %-10s %s\n", r->offset, r->size, r->name, hv, gv,
				pvpci_reg_policy(r));
			off = r->offset + r->size;
			continue;
		}
		/* A run of bytes no register covers, up to the next register or
		 * capability start. */
		unsigned end = off + 1;
		bool all_zero = host[off] == 0;

		while (end < size && !pvpci_cs_reg_at(cs, end) && !cap_starting_at(cs, end)) {
			all_zero &= host[end] == 0;
			end++;
		}
		if (!all_zero || end - off < 64)
			fprintf(f, "  0x%03x  %-4u %-44s %-10s %-10s %s\n", off, end - off, "(unhandled bytes)",
				all_zero ? "zero" : "data", "as host",
				cs->opts.permissive ? "passthrough" : "passthrough reads, writes dropped");
		else
			fprintf(f, "  0x%03x  %-4u %-44s %-10s %-10s %s\n", off, end - off, "(unused, all zero)",
				"zero", "as host",
				cs->opts.permissive ? "passthrough" : "passthrough reads, writes dropped");
		off = end;
	}
	return 0;
}
