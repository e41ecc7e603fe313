/*
 * A recording host device for engine tests, independent of the sim
 * backend so that each test states exactly what the "hardware" does:
 * a RAM image, a per-bit hardware-writable mask and RW1C mask, a log of
 * every write and every read that reached it, BAR descriptions, counters,
 * and a hook run at each access (what else happens meanwhile: a frontend
 * rewriting its page, the device changing its registers).
 * Header-only: each test program includes it once.
 */
#ifndef PVPCI_TEST_FAKEDEV_H
#define PVPCI_TEST_FAKEDEV_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pvpci/hostdev.h"

#define FAKE_LOG_MAX 4096

/* One access: for a write the value written, for a read the value read. */
struct fake_write {
	unsigned off, size;
	uint32_t val;
};

struct fakedev {
	struct pvpci_hostdev hd;	/* first: the generic head */
	uint8_t cfg[PVPCI_CFG_EXP_SIZE];
	uint8_t hw_wmask[PVPCI_CFG_EXP_SIZE];	/* bits hardware lets software change */
	uint8_t hw_rw1c[PVPCI_CFG_EXP_SIZE];	/* bits hardware clears on 1 */
	struct pvpci_bar bars[PVPCI_NUM_BARS + 1];
	struct fake_write log[FAKE_LOG_MAX];
	size_t nlog;
	struct fake_write rlog[FAKE_LOG_MAX];	/* reads */
	size_t nrlog;
	unsigned decode_calls, resets;
	bool decode;
	/* Run before each read or write touches the image; NULL: nothing. */
	void (*on_access)(struct fakedev *f, bool write, unsigned off, unsigned size);
	void *hook_ctx;
};

static inline uint32_t fake_get(const struct fakedev *f, unsigned off, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)f->cfg[off + i] << (8 * i);
	return v;
}

static int fake_read(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t *ret)
{
	struct fakedev *f = (struct fakedev *)d;

	if (f->on_access)
		f->on_access(f, false, off, size);
	*ret = fake_get(f, off, size);
	if (f->nrlog < FAKE_LOG_MAX)
		f->rlog[f->nrlog++] = (struct fake_write){ off, size, *ret };
	return 0;
}

static int fake_write(struct pvpci_hostdev *d, unsigned off, unsigned size, uint32_t val)
{
	struct fakedev *f = (struct fakedev *)d;

	if (f->on_access)
		f->on_access(f, true, off, size);
	if (f->nlog < FAKE_LOG_MAX)
		f->log[f->nlog++] = (struct fake_write){ off, size, val };
	for (unsigned i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i)), c = f->hw_rw1c[off + i];
		uint8_t w = f->hw_wmask[off + i] & (uint8_t)~c;	/* rw1c bits are not plain writable */

		f->cfg[off + i] = (uint8_t)((f->cfg[off + i] & ~w) | (b & w));
		f->cfg[off + i] &= (uint8_t)~(b & c);
	}
	return 0;
}

static int fake_bar_info(struct pvpci_hostdev *d, unsigned bar, struct pvpci_bar *ret)
{
	*ret = ((struct fakedev *)d)->bars[bar];
	return 0;
}

static int fake_set_decode(struct pvpci_hostdev *d, bool on)
{
	struct fakedev *f = (struct fakedev *)d;

	f->decode_calls++;
	f->decode = on;
	f->cfg[4] = (uint8_t)(on ? f->cfg[4] | 3 : f->cfg[4] & ~3u);
	return 0;
}

static int fake_reset(struct pvpci_hostdev *d)
{
	((struct fakedev *)d)->resets++;
	return 0;
}

static const struct pvpci_hostdev_ops fake_ops = {
	.name = "fake",
	.read = fake_read,
	.write = fake_write,
	.reset = fake_reset,
	.bar_info = fake_bar_info,
	.set_decode = fake_set_decode,
};

static inline void fake_put(struct fakedev *f, unsigned off, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		f->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static inline void fake_wmask(struct fakedev *f, unsigned off, unsigned size, uint32_t m)
{
	for (unsigned i = 0; i < size; i++)
		f->hw_wmask[off + i] = (uint8_t)(m >> (8 * i));
}

/*
 * A plain endpoint: vendor 0x1234 device 0x5678, class 0x020000, one
 * 32-bit memory BAR 0 of 4K at 0xfeb00000, a 64-bit prefetchable BAR 2/3
 * of 1M at 0x2_0000_0000, an I/O BAR 4 of 32 at 0xc000, ROM 64K at
 * 0xfe000000, no capabilities.  Hardware: Command 0x07ff, Status RW1C,
 * cache line/latency/interrupt line writable, BAR address bits per size.
 */
static inline struct fakedev *fake_new(unsigned cfg_size)
{
	struct fakedev *f = calloc(1, sizeof(*f));

	f->hd.ops = &fake_ops;
	f->hd.cfg_size = cfg_size;
	f->hd.bdf = (struct pvpci_bdf){ 0, 3, 0, 0 };
	fake_put(f, 0x00, 2, 0x1234);
	fake_put(f, 0x02, 2, 0x5678);
	fake_put(f, 0x04, 2, 0x0000);
	fake_put(f, 0x06, 2, 0x0000);
	fake_put(f, 0x08, 4, 0x02000001);
	fake_put(f, 0x10, 4, 0xfeb00000);
	fake_put(f, 0x18, 4, 0x0000000c);
	fake_put(f, 0x1c, 4, 0x00000002);
	fake_put(f, 0x20, 4, 0x0000c001);
	fake_put(f, 0x2c, 4, 0xabcd1af4);
	fake_put(f, 0x30, 4, 0xfe000000);
	fake_put(f, 0x3c, 2, 0x010b);
	fake_wmask(f, 0x04, 2, 0x07ff);
	f->hw_rw1c[0x07] = 0xf9;
	fake_wmask(f, 0x0c, 2, 0xffff);
	fake_wmask(f, 0x10, 4, 0xfffff000);
	fake_wmask(f, 0x18, 4, 0xfff00000);
	fake_wmask(f, 0x1c, 4, 0xffffffff);
	fake_wmask(f, 0x20, 4, 0xffffffe0);
	fake_wmask(f, 0x30, 4, 0xffff0001);
	fake_wmask(f, 0x3c, 1, 0xff);
	f->bars[0] = (struct pvpci_bar){ 0xfeb00000, 0x1000, 0 };
	f->bars[1] = (struct pvpci_bar){ 0, 0, PVPCI_BAR_UNUSED };
	f->bars[2] = (struct pvpci_bar){ 0x200000000ull, 0x100000, PVPCI_BAR_MEM64 | PVPCI_BAR_PREFETCH };
	f->bars[3] = (struct pvpci_bar){ 0, 0, PVPCI_BAR_MEM64_HI };
	f->bars[4] = (struct pvpci_bar){ 0xc000, 32, PVPCI_BAR_IO };
	f->bars[5] = (struct pvpci_bar){ 0, 0, PVPCI_BAR_UNUSED };
	f->bars[6] = (struct pvpci_bar){ 0xfe000000, 0x10000, PVPCI_BAR_ROM };
	return f;
}

/* Add a standard capability at off with the given id and next pointer. */
static inline void fake_cap(struct fakedev *f, unsigned off, uint8_t id, uint8_t next)
{
	f->cfg[off] = id;
	f->cfg[off + 1] = next;
	if (!f->cfg[0x34])
		f->cfg[0x34] = (uint8_t)off;
	f->cfg[0x06] |= 0x10;
}

/* How many accesses of a log touch a byte of [off, off + len). */
static inline size_t fake_touching(const struct fake_write *log, size_t n, unsigned off, unsigned len)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += log[i].off < off + len && off < log[i].off + log[i].size;
	return k;
}

/* How many logged writes touch a byte of [off, off + len). */
static inline size_t fake_writes_to(const struct fakedev *f, unsigned off, unsigned len)
{
	return fake_touching(f->log, f->nlog, off, len);
}

/* How many logged reads touch a byte of [off, off + len). */
static inline size_t fake_reads_of(const struct fakedev *f, unsigned off, unsigned len)
{
	return fake_touching(f->rlog, f->nrlog, off, len);
}

/* Bits hardware clears on a 1 written, as fake_wmask sets writable ones. */
static inline void fake_rw1c(struct fakedev *f, unsigned off, unsigned size, uint32_t m)
{
	for (unsigned i = 0; i < size; i++)
		f->hw_rw1c[off + i] = (uint8_t)(m >> (8 * i));
}

/* An extended capability header at off (0x100 and up). */
static inline void fake_ext_cap(struct fakedev *f, unsigned off, uint16_t id, unsigned ver, unsigned next)
{
	fake_put(f, off, 4, (uint32_t)next << 20 | (ver & 0xfu) << 16 | id);
}

/* Writes of exactly this offset, size and value in the log. */
static inline size_t fake_count_write(const struct fakedev *f, unsigned off, unsigned size, uint32_t val)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nlog; i++)
		n += f->log[i].off == off && f->log[i].size == size && f->log[i].val == val;
	return n;
}

#endif
