/*
 * What the installed libpvpci.so exports.  The library is built with
 * -fvisibility=hidden: only declarations marked PVPCI_API in the public
 * headers (include/pvpci, installed under <prefix>/include/pvpci) are
 * visible to programs that link it; everything else, the helpers in lib/
 * included, stays inside.  tests/integration/test_install.sh checks that
 * every function and object the installed headers declare is exported
 * and that nothing else is.
 */
#ifndef PVPCI_API_H
#define PVPCI_API_H

#define PVPCI_API __attribute__((visibility("default")))

#endif
