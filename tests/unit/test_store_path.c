/* The store's paths and permission strings (lib/store_path.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "store_path.h"

static void test_valid(void **state)
{
	static const char *const good[] = {
		"/", "/a", "/local/domain/0", "/a-b_c@d/E9", "/local/domain/12345/x",
	};
	static const char *const bad[] = {
		"", "a", "@introduceDomain", "/a/", "//", "/a//b", "/a b", "/a.b", "/a\n",
		"/ä", "/a/b/",
	};
	char p[STORE_PATH_BUF + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!store_path_valid(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (store_path_valid(bad[i]))
			fail_msg("'%s' taken", bad[i]);

	/* XENSTORE_REL_PATH_MAX below a domain's own node ... */
	strcpy(p, "/local/domain/7/");
	memset(p + 16, 'a', STORE_REL_PATH_MAX);
	p[16 + STORE_REL_PATH_MAX] = '\0';
	assert_true(store_path_valid(p));
	strcat(p, "b");
	assert_false(store_path_valid(p));
	/* ... and elsewhere the same bound on the whole. */
	p[0] = '/';
	memset(p + 1, 'a', STORE_REL_PATH_MAX - 1);
	p[STORE_REL_PATH_MAX] = '\0';
	assert_true(store_path_valid(p));
	strcat(p, "b");
	assert_false(store_path_valid(p));
	/* Six digits are not a domain: the whole path counts. */
	strcpy(p, "/local/domain/123456/");
	memset(p + 21, 'a', STORE_REL_PATH_MAX);
	p[21 + STORE_REL_PATH_MAX] = '\0';
	assert_false(store_path_valid(p));
}

static void test_canonical(void **state)
{
	char buf[STORE_PATH_BUF], big[STORE_ABS_PATH_MAX + 2];

	(void)state;
	assert_int_equal(store_path_canonical("data/x", 3, buf), 0);
	assert_string_equal(buf, "/local/domain/3/data/x");
	assert_int_equal(store_path_canonical("/abs", 3, buf), 0);
	assert_string_equal(buf, "/abs");
	assert_int_equal(store_path_canonical("@releaseDomain", 3, buf), 0);
	assert_string_equal(buf, "@releaseDomain");
	/* "" is the domain's node and a trailing '/', which is invalid. */
	assert_int_equal(store_path_canonical("", 3, buf), 0);
	assert_string_equal(buf, "/local/domain/3/");
	assert_false(store_path_valid(buf));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_path_canonical(big, 0, buf), -EINVAL);
}

static void test_child_parent_relative(void **state)
{
	(void)state;
	assert_true(store_path_is_child("/a/b", "/a"));
	assert_true(store_path_is_child("/a", "/a"));
	assert_true(store_path_is_child("/anything", "/"));
	assert_false(store_path_is_child("/ab", "/a"));
	assert_false(store_path_is_child("/a", "/a/b"));
	assert_false(store_path_is_child("@releaseDomain", "/"));
	assert_int_equal(store_path_parent_len("/a/b"), 2);
	assert_int_equal(store_path_parent_len("/a"), 1);
	assert_int_equal(store_path_parent_len("/"), 1);
	assert_string_equal(store_path_basename("/a/bc"), "bc");
	assert_string_equal(store_path_relative("/local/domain/5/data/x", 5), "data/x");
	assert_string_equal(store_path_relative("/local/domain/5", 5), "");
	assert_string_equal(store_path_relative("/local/domain/55/x", 5), "/local/domain/55/x");
	assert_string_equal(store_path_relative("/other", 5), "/other");
}

static void test_perms(void **state)
{
	static const char s[] = "n0\0r5\0w65535\0b7";
	struct store_perm p[4];
	char buf[16];

	(void)state;
	assert_int_equal(store_count_strings(s, sizeof(s)), 4);
	assert_int_equal(store_count_strings(s, sizeof(s) - 1), 3);	/* no nul: not a string */
	assert_int_equal(store_perms_parse(s, 4, p), 0);
	assert_int_equal(p[0].id, 0);
	assert_int_equal(p[0].perms, STORE_PERM_NONE);
	assert_int_equal(p[1].perms, STORE_PERM_READ);
	assert_int_equal(p[2].id, 65535);
	assert_int_equal(p[2].perms, STORE_PERM_WRITE);
	assert_int_equal(p[3].perms, STORE_PERM_READ | STORE_PERM_WRITE);
	for (size_t i = 0; i < 4; i++) {
		store_perm_format(&p[i], buf, sizeof(buf));
		assert_string_equal(buf, i == 0 ? "n0" : i == 1 ? "r5" : i == 2 ? "w65535" : "b7");
	}
	/* The owner right never goes on the wire. */
	p[0].perms |= STORE_PERM_OWNER;
	store_perm_format(&p[0], buf, sizeof(buf));
	assert_string_equal(buf, "n0");

	assert_int_equal(store_perms_parse("x0", 1, p), -EINVAL);
	assert_int_equal(store_perms_parse("r", 1, p), -EINVAL);
	assert_int_equal(store_perms_parse("r-1", 1, p), -EINVAL);
	assert_int_equal(store_perms_parse("r65536", 1, p), -EINVAL);
	assert_int_equal(store_perms_parse("r0x1", 1, p), -EINVAL);
	assert_int_equal(store_perms_parse("", 1, p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_child_parent_relative),
		cmocka_unit_test(test_perms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
