/*
 * The PV PCI protocol's names: the op table of xen/io/pciif.h.  (The op
 * dispatch against the engine and the topologies joins this file.)
 */
#include <stddef.h>

#include "pvpci/pciif.h"

static const char *const op_names[] = {
#define PVPCI_OP_NAME(name, val) [val] = #name,
	PVPCI_XEN_PCI_OPS(PVPCI_OP_NAME)
#undef PVPCI_OP_NAME
};

const char *pvpci_op_name(uint32_t cmd)
{
	return cmd < sizeof(op_names) / sizeof(op_names[0]) ? op_names[cmd] : NULL;
}
