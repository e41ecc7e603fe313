/*
 * The daemons' sandbox (sandbox.h): capabilities dropped with capset and
 * the bounding set, no_new_privs, and a seccomp filter written as classic
 * BPF here, so that no library (libseccomp) is needed for thirty rules.
 * Only the system call number and, for clone, its flags are looked at:
 * a filter cannot read memory, so clone3 (whose flags are in memory) is
 * answered ENOSYS, and glibc falls back to clone, whose flags it can see.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errmsg.h"
#include "sandbox.h"

#if defined(__x86_64__)
#define ARCH_NR AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH_NR AUDIT_ARCH_AARCH64
#endif

/* LeakSanitizer stops the process's threads with ptrace to look for
 * leaks at exit: in an AddressSanitizer build ptrace stays allowed. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

/* What a PCI backend or a store server never does: run programs, look into
 * or control other processes, change the machine (mounts, modules, kexec,
 * reboot, swap, clocks, accounting), reach the kernel's larger attack
 * surfaces (BPF, perf, keyrings, io_uring, userfaultfd, namespaces), or
 * use file handles that bypass path checks. */
#define D(name) { __NR_##name, #name }
static const struct denied {
	int nr;
	const char *name;
} denied[] = {
	D(execve), D(execveat),
#ifndef SANDBOX_ASAN
	D(ptrace),
#endif
	D(process_vm_readv), D(process_vm_writev), D(kcmp),
#ifdef __NR_pidfd_getfd
	D(pidfd_getfd),
#endif
	D(mount), D(umount2), D(pivot_root), D(chroot),
#ifdef __NR_fsopen
	D(fsopen), D(fsconfig), D(fsmount), D(fspick), D(move_mount), D(open_tree),
#endif
#ifdef __NR_mount_setattr
	D(mount_setattr),
#endif
	D(unshare), D(setns),
	D(reboot), D(kexec_load),
#ifdef __NR_kexec_file_load
	D(kexec_file_load),
#endif
	D(init_module), D(finit_module), D(delete_module),
	D(bpf), D(perf_event_open),
	D(keyctl), D(add_key), D(request_key),
	D(personality),
	D(swapon), D(swapoff), D(acct), D(quotactl),
	D(settimeofday), D(clock_settime), D(clock_adjtime), D(adjtimex),
	D(sethostname), D(setdomainname), D(syslog), D(vhangup),
	D(open_by_handle_at), D(name_to_handle_at), D(fanotify_init),
	D(userfaultfd),
#ifdef __NR_io_uring_setup
	D(io_uring_setup), D(io_uring_enter), D(io_uring_register),
#endif
#if defined(__x86_64__)
	D(ioperm), D(iopl), D(uselib),
#endif
};
#undef D
#define NDENIED (sizeof(denied) / sizeof(denied[0]))

#define CLONE_NS_FLAGS	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
			 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

const char *const *pvpci_sandbox_denied(void)
{
	static const char *names[NDENIED + 3];

	if (!names[0]) {
		size_t k = 0;

		for (size_t i = 0; i < NDENIED; i++)
			names[k++] = denied[i].name;
		names[k++] = "clone (with a namespace flag)";
		names[k++] = "clone3 (ENOSYS: glibc falls back to clone)";
		names[k] = NULL;
	}
	return names;
}

static int drop_caps(uint64_t keep, char *errbuf, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	uint64_t perm, eff;

	if (syscall(SYS_capget, &h, d) < 0)
		return pvpci_errf(errbuf, errlen, -errno, "capget: %s", strerror(errno));
	perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	eff = d[0].effective | (uint64_t)d[1].effective << 32;
	keep &= perm;
	/* The bounding set limits what an exec could give; dropping from it
	 * takes CAP_SETPCAP, so it goes first.  Without CAP_SETPCAP nothing
	 * in it could be used anyway (no_new_privs follows). */
	if (eff & PVPCI_CAP_BIT(CAP_SETPCAP)) {
		for (int c = 0; c < 64; c++) {
			if (keep & PVPCI_CAP_BIT(c))
				continue;
			if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
				break;	/* past the kernel's last capability */
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
				return pvpci_errf(errbuf, errlen, -errno, "dropping capability %d from the bounding set: %s",
						  c, strerror(errno));
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return pvpci_errf(errbuf, errlen, -errno, "clearing the ambient capabilities: %s",
				  strerror(errno));
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return pvpci_errf(errbuf, errlen, -errno, "capset: %s", strerror(errno));
	return 0;
}

#ifdef ARCH_NR
#define STMT(code, k)		((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf)	((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define ARG0_LOW	(offsetof(struct seccomp_data, args) + \
			 (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 4 : 0))

static int load_filter(char *errbuf, size_t errlen)
{
	struct sock_filter prog[2 * NDENIED + 16];
	struct sock_fprog fprog;
	unsigned short n = 0;
	long r;

	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	prog[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_NR, 1, 0);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* The x32 ABI's numbers are the native ones with this bit: none of
	 * the rules below would see them. */
	prog[n++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
#endif
	for (size_t i = 0; i < NDENIED; i++) {
		prog[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i].nr, 0, 1);
		prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	}
#ifdef __NR_clone3
	prog[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
#endif
	/* clone: threads and fork yes, new namespaces no (unshare's way in
	 * at creation).  Last: after it, everything is allowed. */
	prog[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3);
	prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LOW);
	prog[n++] = JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NS_FLAGS, 0, 1);
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

	fprog = (struct sock_fprog){ .len = n, .filter = prog };
	/* Every thread (TSYNC), or, on a kernel without seccomp(2), this one. */
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
	if (r < 0 && errno == ENOSYS)
		r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
	if (r > 0)
		return pvpci_errf(errbuf, errlen, -EBUSY, "seccomp: thread %ld could not take the filter", r);
	if (r < 0)
		return pvpci_errf(errbuf, errlen, -errno, "seccomp: %s", strerror(errno));
	return 0;
}
#else
static int load_filter(char *errbuf, size_t errlen)
{
	return pvpci_errf(errbuf, errlen, -ENOSYS, "no seccomp filter for this architecture (--no-sandbox)");
}
#endif

int pvpci_sandbox_enter(uint64_t keep_caps, char *errbuf, size_t errlen)
{
	int r = drop_caps(keep_caps, errbuf, errlen);

	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return pvpci_errf(errbuf, errlen, -errno, "no_new_privs: %s", strerror(errno));
	return load_filter(errbuf, errlen);
}
