/*
 * cfgread: runs in the e2e domU (tests/e2e).  Reads a PCI function's
 * config space through sysfs (`/sys/bus/pci/devices/X/config`), which
 * Linux turns into one 4-byte pcifront op per aligned dword, N times, and
 * says how fast: the e2e benchmark's figure for the kernel's pciback and
 * for pvpcid.  Every pass must read the same number of bytes as the first,
 * and the bytes must not change between passes (a backend answering
 * wrongly under load is not fast, it is broken).
 *
 * usage: cfgread N FILE
 * prints: cfgread: FILE: N reads of SIZE bytes in S s: R reads/s, O ops/s
 * Exit 0, 1 on a failed or inconsistent read, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CFG_MAX 4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The whole file from offset 0; the length read, or -1. */
static ssize_t read_all(int fd, unsigned char *buf)
{
	ssize_t n = 0, r;

	while (n < CFG_MAX) {
		r = pread(fd, buf + n, (size_t)(CFG_MAX - n), n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += r;
	}
	return n;
}

int main(int argc, char **argv)
{
	static unsigned char first[CFG_MAX], buf[CFG_MAX];
	char *end;
	long n;
	ssize_t size;
	double t0, t;
	int fd;

	if (argc != 3 || (n = strtol(argv[1], &end, 10)) <= 0 || *end) {
		fprintf(stderr, "usage: cfgread N FILE\n");
		return 2;
	}
	fd = open(argv[2], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "cfgread: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	size = read_all(fd, first);
	if (size <= 0) {
		fprintf(stderr, "cfgread: %s: %s\n", argv[2], size < 0 ? strerror(errno) : "empty");
		close(fd);
		return 1;
	}
	t0 = now();
	for (long i = 0; i < n; i++) {
		ssize_t r = read_all(fd, buf);

		if (r != size || memcmp(buf, first, (size_t)size)) {
			fprintf(stderr, "cfgread: %s: pass %ld read %zd bytes%s\n", argv[2], i, r,
				r == size ? " that differ from the first pass" : "");
			close(fd);
			return 1;
		}
	}
	t = now() - t0;
	close(fd);
	printf("cfgread: %s: %ld reads of %zd bytes in %.3f s: %.1f reads/s, %.0f ops/s\n",
	       argv[2], n, size, t, (double)n / t, (double)n * (double)size / 4 / t);
	return 0;
}
