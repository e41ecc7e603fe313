/*
 * The daemons' sandbox, entered in a child process per case (there is no
 * way out of it): the deny-list's calls fail with EPERM, chosen with
 * arguments that would fail harmlessly otherwise (so a filter that did
 * not load cannot reboot or rename the machine, or exec: the errno tells them
 * apart); what a daemon needs still works, threads and fork included;
 * other architectures' calls kill; no_new_privs; the capabilities kept
 * are exactly those asked for; a thread started before it is filtered too.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif

/* In the child: say what failed on stderr and exit 1. */
#define EXPECT(cond)									\
	do {										\
		if (!(cond)) {								\
			fprintf(stderr, "%s:%d: %s (errno %d %s)\n", __FILE__, __LINE__,	\
				#cond, errno, strerror(errno));				\
			_exit(1);							\
		}									\
	} while (0)
/* The call fails with exactly this errno. */
#define FAILS_WITH(call, err) do { errno = 0; EXPECT((call) == -1 && errno == (err)); } while (0)

/* Run fn in a child; its wait status. */
static int in_child(void (*fn)(void))
{
	int st;
	pid_t p;

	fflush(stderr);
	p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(p, &st, 0), p);
	return st;
}

static void assert_exit0(int st)
{
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void enter(uint64_t keep)
{
	char err[256] = "";

	if (pvpci_sandbox_enter(keep, err, sizeof(err)) < 0) {
		fprintf(stderr, "pvpci_sandbox_enter: %s\n", err);
		_exit(2);
	}
}

static void *thread_fn(void *arg)
{
	return arg;
}

static void denied_and_allowed(void)
{
	char *const argv[] = { "true", NULL }, buf[8];
	struct iovec l = { buf, 1 }, r = { buf + 1, 1 };
	pthread_t t;
	void *ret;
	pid_t p;
	int st, fd;

	enter(0);
	FAILS_WITH(execve("/nonexistent/true", argv, environ), EPERM);
	FAILS_WITH(syscall(SYS_execveat, AT_FDCWD, "/nonexistent/true", argv, environ, 0), EPERM);
	FAILS_WITH(mount("none", "/nonexistent", "tmpfs", 0, NULL), EPERM);
	FAILS_WITH(umount2("/nonexistent", 0), EPERM);
	FAILS_WITH(chroot("/nonexistent"), EPERM);
	FAILS_WITH(syscall(SYS_pivot_root, "/nonexistent", "/nonexistent"), EPERM);
	FAILS_WITH(unshare(CLONE_NEWUSER), EPERM);
	FAILS_WITH(setns(-1, 0), EPERM);
	FAILS_WITH(syscall(SYS_reboot, 0, 0, 0, NULL), EPERM);		/* bad magic: EINVAL */
	FAILS_WITH(syscall(SYS_kexec_load, 0, 0, NULL, 0xffffffffUL), EPERM);
	FAILS_WITH(syscall(SYS_init_module, NULL, 0, ""), EPERM);
	FAILS_WITH(syscall(SYS_finit_module, -1, "", 0), EPERM);
	FAILS_WITH(syscall(SYS_delete_module, "pvpci-none", 0), EPERM);
	FAILS_WITH(syscall(SYS_bpf, -1, NULL, 0), EPERM);
	FAILS_WITH(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
	FAILS_WITH(syscall(SYS_keyctl, -1, 0, 0, 0, 0), EPERM);
	FAILS_WITH(syscall(SYS_add_key, "user", "pvpci", "", 0, 0), EPERM);
	FAILS_WITH(syscall(SYS_request_key, "user", "pvpci", NULL, 0), EPERM);
	FAILS_WITH(syscall(SYS_personality, 0xffffffffUL), EPERM);	/* a query otherwise */
	FAILS_WITH(process_vm_readv(getpid(), &l, 1, &r, 1, 0), EPERM);
	FAILS_WITH(process_vm_writev(getpid(), &l, 1, &r, 1, 0), EPERM);
	FAILS_WITH(syscall(SYS_swapon, "/nonexistent", 0), EPERM);
	FAILS_WITH(syscall(SYS_swapoff, "/nonexistent"), EPERM);
	FAILS_WITH(syscall(SYS_acct, "/nonexistent/x"), EPERM);
	FAILS_WITH(syscall(SYS_settimeofday, NULL, NULL), EPERM);
	FAILS_WITH(syscall(SYS_clock_settime, -1, NULL), EPERM);
	FAILS_WITH(syscall(SYS_sethostname, NULL, (size_t)-1), EPERM);
	FAILS_WITH(syscall(SYS_io_uring_setup, 0, NULL), EPERM);
	FAILS_WITH(syscall(SYS_userfaultfd, 0), EPERM);
	FAILS_WITH(syscall(SYS_open_by_handle_at, -1, NULL, 0), EPERM);
#ifndef ASAN
	FAILS_WITH(syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, NULL, NULL), EPERM);
#endif
	/* clone: a new namespace no, clone3 sent back to clone. */
	errno = 0;
	p = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	if (p == 0)
		_exit(0);
	EXPECT(p == -1 && errno == EPERM);
	FAILS_WITH(syscall(SYS_clone3, NULL, 0), ENOSYS);

	/* What a daemon does. */
	EXPECT(syscall(SYS_getpid) == getpid());
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	EXPECT(fd >= 0 && read(fd, buf, sizeof(buf)) == sizeof(buf));
	close(fd);
	EXPECT(pthread_create(&t, NULL, thread_fn, buf) == 0);
	EXPECT(pthread_join(t, &ret) == 0 && ret == buf);
	p = fork();
	if (p == 0)
		_exit(7);
	EXPECT(p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 7);
	/* What the xen transport does with Xen's devices after entering:
	 * open (an event channel handle per frontend), ioctl, shared maps. */
	fd = memfd_create("pvpci-sandbox", MFD_CLOEXEC);
	EXPECT(fd >= 0 && ftruncate(fd, 4096) == 0);
	{
		int n = -1;
		void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		EXPECT(m != MAP_FAILED && munmap(m, 4096) == 0);
		EXPECT(ioctl(fd, FIONREAD, &n) == 0 && n == 4096);	/* the bytes past the offset */
	}
	close(fd);
}

static void test_denied_and_allowed(void **state)
{
	(void)state;
	assert_exit0(in_child(denied_and_allowed));
}

static void no_new_privs_and_status(void)
{
	char status[4096] = "";
	FILE *f;

	enter(0);
	EXPECT(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	EXPECT(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2);
	f = fopen("/proc/self/status", "r");
	EXPECT(f && fread(status, 1, sizeof(status) - 1, f) > 0);
	fclose(f);
	EXPECT(strstr(status, "\nNoNewPrivs:\t1\n"));
	EXPECT(strstr(status, "\nSeccomp:\t2\n"));
	EXPECT(strstr(status, "\nCapInh:\t0000000000000000\n"));
	EXPECT(strstr(status, "\nCapAmb:\t0000000000000000\n"));
}

static void test_no_new_privs(void **state)
{
	(void)state;
	assert_exit0(in_child(no_new_privs_and_status));
}

static uint64_t caps_of(int which)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	EXPECT(syscall(SYS_capget, &h, d) == 0);
	return which == 0 ? d[0].effective | (uint64_t)d[1].effective << 32
	       : which == 1 ? d[0].permitted | (uint64_t)d[1].permitted << 32
			    : d[0].inheritable | (uint64_t)d[1].inheritable << 32;
}

/* Keep CAP_SYS_ADMIN (pvpcid on sysfs): exactly it, when we had it. */
static void keeps_what_it_asked(void)
{
	uint64_t want = PVPCI_CAP_BIT(CAP_SYS_ADMIN) & caps_of(1);
	bool setpcap = caps_of(0) & PVPCI_CAP_BIT(CAP_SETPCAP);

	enter(PVPCI_CAP_BIT(CAP_SYS_ADMIN) | PVPCI_CAP_BIT(63));	/* 63: no such capability */
	EXPECT(caps_of(0) == want);
	EXPECT(caps_of(1) == want);
	EXPECT(caps_of(2) == 0);
	if (setpcap) {
		EXPECT(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) == 1);
		EXPECT(prctl(PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) == 0);
		EXPECT(prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 0);
	}
}

static void keeps_nothing(void)
{
	enter(0);
	EXPECT(caps_of(0) == 0 && caps_of(1) == 0 && caps_of(2) == 0);
}

static void test_capabilities(void **state)
{
	(void)state;
	assert_exit0(in_child(keeps_what_it_asked));
	assert_exit0(in_child(keeps_nothing));
}

/* A thread that was running before: filtered too (TSYNC). */
static int go[2];

static void *try_exec(void *arg)
{
	char *const argv[] = { "true", NULL };
	char c;

	(void)arg;
	if (read(go[0], &c, 1) != 1)
		return (void *)1;
	errno = 0;
	return (void *)(intptr_t)(execve("/nonexistent/true", argv, environ) == -1 && errno == EPERM ? 0 : 2);
}

static void thread_before(void)
{
	pthread_t t;
	void *ret;

	EXPECT(pipe(go) == 0);
	EXPECT(pthread_create(&t, NULL, try_exec, NULL) == 0);
	enter(0);
	EXPECT(write(go[1], "g", 1) == 1);
	EXPECT(pthread_join(t, &ret) == 0);
	EXPECT(ret == NULL);
}

static void test_thread_started_before(void **state)
{
	(void)state;
	assert_exit0(in_child(thread_before));
}

#ifdef __x86_64__
/* getpid through the i386 entry (20) and through the x32 numbers. */
static long i386_getpid(void)
{
	long r = 20;

	__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
	return r;
}

static void foreign_i386(void)
{
	enter(0);
	i386_getpid();
	_exit(3);
}

static void foreign_x32(void)
{
	enter(0);
	syscall(0x40000000L | SYS_getpid);
	_exit(3);
}

static void probe_i386(void)
{
	_exit(i386_getpid() == getpid() ? 0 : 4);
}

static void test_other_architectures_killed(void **state)
{
	int st;

	(void)state;
	st = in_child(foreign_x32);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	/* Only where the kernel runs i386 calls at all (ia32 emulation). */
	st = in_child(probe_i386);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		print_message("# no ia32 emulation in this kernel: the i386 case is not run\n");
		return;
	}
	st = in_child(foreign_i386);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}
#endif

static void test_denied_names(void **state)
{
	const char *const *n = pvpci_sandbox_denied();
	bool exec = false, clone3 = false;
	size_t k = 0;

	(void)state;
	for (; n[k]; k++) {
		exec |= !strcmp(n[k], "execve");
		clone3 |= !strncmp(n[k], "clone3", 6);
	}
	assert_true(exec && clone3);
	assert_true(k > 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_denied_and_allowed),
		cmocka_unit_test(test_no_new_privs),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_thread_started_before),
#ifdef __x86_64__
		cmocka_unit_test(test_other_architectures_killed),
#endif
		cmocka_unit_test(test_denied_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
