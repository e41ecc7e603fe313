/*
 * Our definition of the shared page against Xen's own header: every size,
 * every offset, every op number, flag and error code.  Built only where
 * libxen-dev is installed (meson checks for xen/io/pciif.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <xen/io/pciif.h>

#include "pvpci/pciif.h"

#define SAME_OFFSET(ours, theirs, field) \
	assert_int_equal(offsetof(struct ours, field), offsetof(struct theirs, field))

static void test_sizes_and_offsets(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct pvpci_sharedinfo), sizeof(struct xen_pci_sharedinfo));
	assert_int_equal(sizeof(struct pvpci_op), sizeof(struct xen_pci_op));
	assert_int_equal(sizeof(struct pvpci_aer_op), sizeof(struct xen_pcie_aer_op));
	assert_int_equal(sizeof(struct pvpci_msix_entry), sizeof(struct xen_msix_entry));
	SAME_OFFSET(pvpci_sharedinfo, xen_pci_sharedinfo, flags);
	SAME_OFFSET(pvpci_sharedinfo, xen_pci_sharedinfo, op);
	SAME_OFFSET(pvpci_sharedinfo, xen_pci_sharedinfo, aer_op);
	SAME_OFFSET(pvpci_op, xen_pci_op, cmd);
	SAME_OFFSET(pvpci_op, xen_pci_op, err);
	SAME_OFFSET(pvpci_op, xen_pci_op, domain);
	SAME_OFFSET(pvpci_op, xen_pci_op, bus);
	SAME_OFFSET(pvpci_op, xen_pci_op, devfn);
	SAME_OFFSET(pvpci_op, xen_pci_op, offset);
	SAME_OFFSET(pvpci_op, xen_pci_op, size);
	SAME_OFFSET(pvpci_op, xen_pci_op, value);
	SAME_OFFSET(pvpci_op, xen_pci_op, info);
	SAME_OFFSET(pvpci_op, xen_pci_op, msix_entries);
	SAME_OFFSET(pvpci_aer_op, xen_pcie_aer_op, cmd);
	SAME_OFFSET(pvpci_aer_op, xen_pcie_aer_op, err);
	SAME_OFFSET(pvpci_aer_op, xen_pcie_aer_op, domain);
	SAME_OFFSET(pvpci_aer_op, xen_pcie_aer_op, bus);
	SAME_OFFSET(pvpci_aer_op, xen_pcie_aer_op, devfn);
	SAME_OFFSET(pvpci_msix_entry, xen_msix_entry, vector);
	SAME_OFFSET(pvpci_msix_entry, xen_msix_entry, entry);
}

static void test_constants(void **state)
{
	(void)state;
	assert_string_equal(PVPCI_XEN_PCI_MAGIC, XEN_PCI_MAGIC);
	assert_int_equal(PVPCI_SH_INFO_MAX_VEC, SH_INFO_MAX_VEC);
	assert_int_equal(PVPCI_XEN_PCIF_active, XEN_PCIF_active);
	assert_int_equal(PVPCI_XEN_PCIB_AERHANDLER, XEN_PCIB_AERHANDLER);
	assert_int_equal(PVPCI_XEN_PCIB_active, XEN_PCIB_active);
	assert_int_equal(PVPCI_XEN_PCIF_active_bit, _XEN_PCIF_active);
	assert_int_equal(PVPCI_XEN_PCIB_AERHANDLER_bit, _XEN_PCIB_AERHANDLER);
	assert_int_equal(PVPCI_XEN_PCIB_active_bit, _XEN_PCIB_active);
#define SAME_OP(name, val) assert_int_equal(PVPCI_XEN_PCI_OP_##name, XEN_PCI_OP_##name);
	PVPCI_XEN_PCI_OPS(SAME_OP)
#undef SAME_OP
#define SAME_ERR(name, val, text) assert_int_equal(PVPCI_ERR_##name, XEN_PCI_ERR_##name);
	PVPCI_ERRORS(SAME_ERR)
#undef SAME_ERR
}

static void test_op_names(void **state)
{
	(void)state;
	assert_string_equal(pvpci_op_name(0), "conf_read");
	assert_string_equal(pvpci_op_name(10), "enable_multi_msi");
	assert_null(pvpci_op_name(11));
	assert_null(pvpci_op_name(0xffffffffu));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_and_offsets),
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_op_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
