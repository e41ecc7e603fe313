/*
 * The xenstore wire protocol of xen/io/xs_wire.h, defined on our own so
 * that the store builds without the Xen headers; a unit test checks every
 * number and error string against Xen's header where it is installed.
 * Private to lib/.  The message names are Xen's without their XS_ prefix.
 */
#ifndef PVPCI_STORE_WIRE_H
#define PVPCI_STORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum store_msg_type {
	STORE_MSG_CONTROL = 0,		/* also XS_DEBUG */
	STORE_MSG_DIRECTORY = 1,
	STORE_MSG_READ = 2,
	STORE_MSG_GET_PERMS = 3,
	STORE_MSG_WATCH = 4,
	STORE_MSG_UNWATCH = 5,
	STORE_MSG_TRANSACTION_START = 6,
	STORE_MSG_TRANSACTION_END = 7,
	STORE_MSG_INTRODUCE = 8,
	STORE_MSG_RELEASE = 9,
	STORE_MSG_GET_DOMAIN_PATH = 10,
	STORE_MSG_WRITE = 11,
	STORE_MSG_MKDIR = 12,
	STORE_MSG_RM = 13,
	STORE_MSG_SET_PERMS = 14,
	STORE_MSG_WATCH_EVENT = 15,
	STORE_MSG_ERROR = 16,
	STORE_MSG_IS_DOMAIN_INTRODUCED = 17,
	STORE_MSG_RESUME = 18,
	STORE_MSG_SET_TARGET = 19,
	/* 20 was XS_RESTRICT, removed */
	STORE_MSG_RESET_WATCHES = 21,
	STORE_MSG_DIRECTORY_PART = 22,
	STORE_MSG_TYPE_COUNT = 23,
	STORE_MSG_INVALID = 0xffff,
};

/* struct xsd_sockmsg: host byte order, as both ends share a machine. */
struct store_msg_hdr {
	uint32_t type;
	uint32_t req_id;	/* echoed in the reply */
	uint32_t tx_id;		/* 0: no transaction */
	uint32_t len;		/* payload bytes that follow */
};
_Static_assert(sizeof(struct store_msg_hdr) == 16, "xsd_sockmsg is 16 bytes");

#define STORE_PAYLOAD_MAX	4096	/* XENSTORE_PAYLOAD_MAX, both directions */
#define STORE_ABS_PATH_MAX	3072	/* XENSTORE_ABS_PATH_MAX */
#define STORE_REL_PATH_MAX	2048	/* XENSTORE_REL_PATH_MAX */
#define STORE_DOMID_FIRST_RESERVED 0x7ff0	/* DOMID_FIRST_RESERVED; DOMID_SELF is this */

/* The xsd_errors table, in its order: errors travel as these names. */
#define STORE_ERRORS(X) \
	X(EINVAL) X(EACCES) X(EEXIST) X(EISDIR) X(ENOENT) X(ENOMEM) X(ENOSPC) X(EIO) \
	X(ENOTEMPTY) X(ENOSYS) X(EROFS) X(EBUSY) X(EAGAIN) X(EISCONN) X(E2BIG) X(EPERM)

struct store_err {
	int errnum;
	const char *name;
};
extern const struct store_err store_errors[];
extern const size_t store_nerrors;

/* "ENOENT" for ENOENT; an errno the table lacks goes as "EINVAL", as
 * xenstored sends it. */
const char *store_err_name(int errnum);
/* "READ" for STORE_MSG_READ; "unknown" otherwise. */
const char *store_msg_name(uint32_t type);

#endif
