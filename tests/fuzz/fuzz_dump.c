/*
 * Fuzz target: the config dump parser (pvpci_dump_parse_any: lspci -x /
 * -xxx / -xxxx text with or without -v decoding, or a raw image), the one
 * entry point for dumps a user hands us.
 *
 * Invariants besides memory safety:
 *  - a failure leaves the result untouched and says "line N: ..." (or,
 *    for a binary input, why it is not a raw image);
 *  - a success gives 1 to PVPCI_DUMP_MAX_DEVS functions, each with a
 *    device number 0-1f, a function 0-7, len 64, 256 or 4096, 0xff past
 *    len, a description without control characters;
 *  - what we read, we write back and read again the same: each function
 *    through pvpci_dump_write (with its BAR lines) parses to the same
 *    address, description, length, bytes and the BARs written.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "fuzz_input.h"
#include "pvpci/dump.h"

/* The BARs pvpci_dump_write writes a line for. */
static bool written(const struct pvpci_bar *b, unsigned i)
{
	if (i == PVPCI_ROM_BAR)
		return b->size && !(b->flags & PVPCI_BAR_UNUSED);
	return b->size && !(b->flags & (PVPCI_BAR_UNUSED | PVPCI_BAR_MEM64_HI | PVPCI_BAR_ROM));
}

static void check_dev(const struct pvpci_dump_dev *d)
{
	if (d->bdf.dev > 0x1f || d->bdf.fn > 7)
		fuzz_fail("function %x.%x", d->bdf.dev, d->bdf.fn);
	if (d->len != 64 && d->len != PVPCI_CFG_SIZE && d->len != PVPCI_CFG_EXP_SIZE)
		fuzz_fail("len %u", d->len);
	for (unsigned i = d->len; i < PVPCI_CFG_EXP_SIZE; i++)
		if (d->cfg[i] != 0xff)
			fuzz_fail("byte 0x%x past len %u is 0x%02x", i, d->len, d->cfg[i]);
	if (!memchr(d->desc, '\0', sizeof(d->desc)))
		fuzz_fail("desc not terminated");
	for (const char *c = d->desc; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			fuzz_fail("control character 0x%02x in desc", (unsigned char)*c);
}

static void round_trip(const struct pvpci_dump_dev *d)
{
	struct pvpci_dump back = { 0 };
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		abort();
	r = pvpci_dump_write(f, &d->bdf, d->desc, d->cfg, d->len, d->bars);
	fclose(f);
	if (r < 0)
		fuzz_fail("pvpci_dump_write refused a parsed function: %d", r);
	r = pvpci_dump_parse(text, len, &back, err, sizeof(err));
	if (r < 0)
		fuzz_fail("what pvpci_dump_write wrote does not parse: %s\n%s", err, text);
	if (back.n != 1 || pvpci_bdf_cmp(&back.devs[0].bdf, &d->bdf) ||
	    strcmp(back.devs[0].desc, d->desc) || back.devs[0].len != d->len ||
	    memcmp(back.devs[0].cfg, d->cfg, sizeof(d->cfg)))
		fuzz_fail("written and read back, the function differs:\n%s", text);
	for (unsigned i = 0; i <= PVPCI_ROM_BAR; i++) {
		const struct pvpci_bar *a = &d->bars[i], *b = &back.devs[0].bars[i];

		if (written(a, i) && (!back.devs[0].bar_sizes_known[i] || a->addr != b->addr ||
				      a->size != b->size || a->flags != b->flags))
			fuzz_fail("BAR %u (addr 0x%llx size 0x%llx flags 0x%x) read back as addr 0x%llx "
				  "size 0x%llx flags 0x%x:\n%s", i, (unsigned long long)a->addr,
				  (unsigned long long)a->size, a->flags, (unsigned long long)b->addr,
				  (unsigned long long)b->size, b->flags, text);
	}
	pvpci_dump_free(&back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pvpci_dump d = { (struct pvpci_dump_dev *)&d, 12345 };
	char err[256] = "";
	int r = pvpci_dump_parse_any(data, size, &d, err, sizeof(err));

	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			fuzz_fail("error %d", r);
		if (d.devs != (struct pvpci_dump_dev *)&d || d.n != 12345)
			fuzz_fail("a failed parse changed its result");
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			fuzz_fail("a failed parse says nothing");
		return 0;
	}
	if (d.n < 1 || d.n > PVPCI_DUMP_MAX_DEVS)
		fuzz_fail("%zu functions", d.n);
	for (size_t i = 0; i < d.n; i++) {
		check_dev(&d.devs[i]);
		round_trip(&d.devs[i]);
	}
	pvpci_dump_free(&d);
	return 0;
}
