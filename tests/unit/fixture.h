/*
 * The project's own fixtures (fixtures/NAME.lspci) for unit tests that build
 * sim hosts from them.  Header-only, as the other test helpers.
 */
#ifndef PVPCI_TEST_FIXTURE_H
#define PVPCI_TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PVPCI_SRC
#define PVPCI_SRC "."
#endif

/* The first function of fixtures/NAME: its lines up to the blank one,
 * the last newline kept, in a static buffer (until the next call). */
static inline char *fixture_first(const char *name)
{
	const char *src = getenv("PVPCI_SRC") && *getenv("PVPCI_SRC") ? getenv("PVPCI_SRC") : PVPCI_SRC;
	static char text[1 << 16];
	char path[512], *end;
	size_t len;
	FILE *in;

	snprintf(path, sizeof(path), "%s/fixtures/%s", src, name);
	in = fopen(path, "r");
	assert_non_null(in);
	len = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	text[len] = '\0';
	if ((end = strstr(text, "\n\n")))
		end[1] = '\0';
	return text;
}

#endif
