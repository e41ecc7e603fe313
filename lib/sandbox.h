/*
 * Least privilege for the daemons (pvpcid, pvpci-stored): once they have
 * opened what they must, they give up what a backend never needs.
 *   capabilities  every one but those asked for leaves the effective,
 *                 permitted, inheritable, ambient and (with CAP_SETPCAP)
 *                 bounding sets;
 *   no_new_privs  no exec could give any back (set-user-ID, file caps);
 *   seccomp       a filter in classic BPF, on every thread: a system call
 *                 of another architecture (i386 through int 0x80, x32)
 *                 kills the process; the calls of a deny-list fail with
 *                 EPERM (see pvpci_sandbox_denied).  A deny-list rather
 *                 than an allow-list so that the sanitizers, libxenstore's
 *                 reader thread and glibc keep working as they change.
 * Owns nothing after it returns; there is no way back.  Linux only.
 */
#ifndef PVPCI_SANDBOX_H
#define PVPCI_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

/* Bit n of a capability mask stands for capability n (linux/capability.h). */
#define PVPCI_CAP_BIT(cap)	((uint64_t)1 << (cap))

/*
 * Enter the sandbox, keeping the capabilities of keep_caps that the
 * process has (none when it runs without any).  Call it before any thread
 * is started when keep_caps matters: capabilities are per thread (the
 * filter and no_new_privs reach every thread).  Returns 0, or a negative
 * errno with errbuf saying which step failed; a failure part-way leaves
 * the steps before it done.
 */
int pvpci_sandbox_enter(uint64_t keep_caps, char *errbuf, size_t errlen);

/* The names of the system calls the filter refuses, NULL-terminated, in
 * its order (for the documentation, --help and tests). */
const char *const *pvpci_sandbox_denied(void);

#endif
