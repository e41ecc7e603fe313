/*
 * The one clock the library's deadlines use: monotonic milliseconds
 * (microseconds for the backend's polling).  Private to the library.
 */
#ifndef PVPCI_CLOCK_H
#define PVPCI_CLOCK_H

#include <time.h>

static inline long pvpci_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

static inline long pvpci_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

#endif
