/* The wire protocol's names (store_wire.h). */
#include <errno.h>

#include "store_wire.h"

#define STORE_ERR_ENTRY(e) { e, #e },
const struct store_err store_errors[] = { STORE_ERRORS(STORE_ERR_ENTRY) };
#undef STORE_ERR_ENTRY
const size_t store_nerrors = sizeof(store_errors) / sizeof(store_errors[0]);

const char *store_err_name(int errnum)
{
	for (size_t i = 0; i < store_nerrors; i++)
		if (store_errors[i].errnum == errnum)
			return store_errors[i].name;
	return "EINVAL";
}

const char *store_msg_name(uint32_t type)
{
	static const char *const names[STORE_MSG_TYPE_COUNT] = {
		"CONTROL", "DIRECTORY", "READ", "GET_PERMS", "WATCH", "UNWATCH",
		"TRANSACTION_START", "TRANSACTION_END", "INTRODUCE", "RELEASE",
		"GET_DOMAIN_PATH", "WRITE", "MKDIR", "RM", "SET_PERMS", "WATCH_EVENT", "ERROR",
		"IS_DOMAIN_INTRODUCED", "RESUME", "SET_TARGET", NULL, "RESET_WATCHES",
		"DIRECTORY_PART",
	};

	return type < STORE_MSG_TYPE_COUNT && names[type] ? names[type] : "unknown";
}
