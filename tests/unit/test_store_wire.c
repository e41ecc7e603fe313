/*
 * Our definition of the xenstore wire protocol against Xen's own
 * xen/io/xs_wire.h: every message number, the header, the limits and the
 * error table, name by name and in order.  Built only where libxen-dev is
 * installed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <xen/io/xs_wire.h>

#include "store_wire.h"

static void test_types(void **state)
{
	(void)state;
	assert_int_equal(STORE_MSG_CONTROL, XS_CONTROL);
	assert_int_equal(STORE_MSG_CONTROL, XS_DEBUG);
	assert_int_equal(STORE_MSG_DIRECTORY, XS_DIRECTORY);
	assert_int_equal(STORE_MSG_READ, XS_READ);
	assert_int_equal(STORE_MSG_GET_PERMS, XS_GET_PERMS);
	assert_int_equal(STORE_MSG_WATCH, XS_WATCH);
	assert_int_equal(STORE_MSG_UNWATCH, XS_UNWATCH);
	assert_int_equal(STORE_MSG_TRANSACTION_START, XS_TRANSACTION_START);
	assert_int_equal(STORE_MSG_TRANSACTION_END, XS_TRANSACTION_END);
	assert_int_equal(STORE_MSG_INTRODUCE, XS_INTRODUCE);
	assert_int_equal(STORE_MSG_RELEASE, XS_RELEASE);
	assert_int_equal(STORE_MSG_GET_DOMAIN_PATH, XS_GET_DOMAIN_PATH);
	assert_int_equal(STORE_MSG_WRITE, XS_WRITE);
	assert_int_equal(STORE_MSG_MKDIR, XS_MKDIR);
	assert_int_equal(STORE_MSG_RM, XS_RM);
	assert_int_equal(STORE_MSG_SET_PERMS, XS_SET_PERMS);
	assert_int_equal(STORE_MSG_WATCH_EVENT, XS_WATCH_EVENT);
	assert_int_equal(STORE_MSG_ERROR, XS_ERROR);
	assert_int_equal(STORE_MSG_IS_DOMAIN_INTRODUCED, XS_IS_DOMAIN_INTRODUCED);
	assert_int_equal(STORE_MSG_RESUME, XS_RESUME);
	assert_int_equal(STORE_MSG_SET_TARGET, XS_SET_TARGET);
	assert_int_equal(STORE_MSG_RESET_WATCHES, XS_RESET_WATCHES);
	assert_int_equal(STORE_MSG_DIRECTORY_PART, XS_DIRECTORY_PART);
	assert_int_equal(STORE_MSG_TYPE_COUNT, XS_TYPE_COUNT);
	assert_int_equal(STORE_MSG_INVALID, XS_INVALID);
}

static void test_header_and_limits(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct store_msg_hdr), sizeof(struct xsd_sockmsg));
	assert_int_equal(offsetof(struct store_msg_hdr, type), offsetof(struct xsd_sockmsg, type));
	assert_int_equal(offsetof(struct store_msg_hdr, req_id),
			 offsetof(struct xsd_sockmsg, req_id));
	assert_int_equal(offsetof(struct store_msg_hdr, tx_id), offsetof(struct xsd_sockmsg, tx_id));
	assert_int_equal(offsetof(struct store_msg_hdr, len), offsetof(struct xsd_sockmsg, len));
	assert_int_equal(STORE_PAYLOAD_MAX, XENSTORE_PAYLOAD_MAX);
	assert_int_equal(STORE_ABS_PATH_MAX, XENSTORE_ABS_PATH_MAX);
	assert_int_equal(STORE_REL_PATH_MAX, XENSTORE_REL_PATH_MAX);
}

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(store_nerrors, sizeof(xsd_errors) / sizeof(xsd_errors[0]));
	for (size_t i = 0; i < store_nerrors; i++) {
		assert_int_equal(store_errors[i].errnum, xsd_errors[i].errnum);
		assert_string_equal(store_errors[i].name, xsd_errors[i].errstring);
		assert_string_equal(store_err_name(xsd_errors[i].errnum), xsd_errors[i].errstring);
	}
	/* What the table lacks goes as EINVAL, as xenstored sends it. */
	assert_string_equal(store_err_name(EMFILE), "EINVAL");
	assert_string_equal(store_msg_name(XS_DIRECTORY_PART), "DIRECTORY_PART");
	assert_string_equal(store_msg_name(20), "unknown");
	assert_string_equal(store_msg_name(XS_INVALID), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_header_and_limits),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
