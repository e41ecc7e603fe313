/*
 * The PV PCI protocol's error codes (xen/io/pciif.h), from one X-macro so
 * that the numbers, the names and the texts cannot drift apart.  The
 * engine answers guest accesses with these, never with errno values.
 */
#ifndef PVPCI_ERRORS_H
#define PVPCI_ERRORS_H

#include "pvpci/api.h"

#define PVPCI_ERRORS(X)						\
	X(success,         0, "success")				\
	X(dev_not_found,  -1, "device not found")			\
	X(invalid_offset, -2, "invalid offset or size")		\
	X(access_denied,  -3, "access denied")			\
	X(not_implemented,-4, "not implemented")			\
	X(op_failed,      -5, "operation failed")

enum pvpci_err {
#define PVPCI_ERR_ENUM(name, val, text) PVPCI_ERR_##name = (val),
	PVPCI_ERRORS(PVPCI_ERR_ENUM)
#undef PVPCI_ERR_ENUM
};

/* "XEN_PCI_ERR_invalid_offset" for -2; "XEN_PCI_ERR_unknown" otherwise. */
PVPCI_API const char *pvpci_err_name(int err);
/* "invalid offset or size" for -2. */
PVPCI_API const char *pvpci_err_str(int err);

#endif
