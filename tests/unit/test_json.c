/* The JSON writer: nesting, both layouts, escaping, UTF-8, numbers, misuse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static struct pvpci_json *writer(unsigned flags)
{
	struct pvpci_json *j = NULL;

	assert_int_equal(pvpci_json_new(flags, &j), 0);
	return j;
}

/* The document j holds, which must be whole; j is freed. */
static void want_doc(struct pvpci_json *j, const char *want)
{
	const char *text = NULL;
	size_t len = 0;

	assert_int_equal(pvpci_json_finish(j, &text, &len), 0);
	assert_string_equal(text, want);
	assert_int_equal(len, strlen(want));
	pvpci_json_free(j);
}

/* A literal and its length, NULs inside included. */
#define S(lit) lit, sizeof(lit) - 1

/* One string value, alone at the top, as the writer escapes it. */
static void want_string(const char *s, size_t len, const char *want)
{
	struct pvpci_json *j = writer(0);

	pvpci_json_string_len(j, NULL, s, len);
	want_doc(j, want);
}

static void test_nesting_compact(void **state)
{
	struct pvpci_json *j = writer(0);

	(void)state;
	pvpci_json_begin_object(j, NULL);
	pvpci_json_uint(j, "a", 1);
	pvpci_json_begin_array(j, "b");
	pvpci_json_bool(j, NULL, true);
	pvpci_json_bool(j, NULL, false);
	pvpci_json_null(j, NULL);
	pvpci_json_begin_object(j, NULL);
	pvpci_json_string(j, "c", "d");
	pvpci_json_string(j, "n", NULL);
	pvpci_json_end_object(j);
	pvpci_json_begin_array(j, NULL);
	pvpci_json_begin_array(j, NULL);
	pvpci_json_end_array(j);
	pvpci_json_end_array(j);
	pvpci_json_end_array(j);
	pvpci_json_begin_object(j, "e");
	pvpci_json_end_object(j);
	pvpci_json_end_object(j);
	want_doc(j, "{\"a\":1,\"b\":[true,false,null,{\"c\":\"d\",\"n\":null},[[]]],\"e\":{}}");
}

static void test_nesting_pretty(void **state)
{
	struct pvpci_json *j = writer(PVPCI_JSON_PRETTY);

	(void)state;
	pvpci_json_begin_object(j, NULL);
	pvpci_json_int(j, "a", -1);
	pvpci_json_begin_array(j, "b");
	pvpci_json_uint(j, NULL, 2);
	pvpci_json_begin_object(j, NULL);
	pvpci_json_string(j, "k", "v");
	pvpci_json_end_object(j);
	pvpci_json_end_array(j);
	pvpci_json_begin_array(j, "empty");
	pvpci_json_end_array(j);
	pvpci_json_begin_object(j, "none");
	pvpci_json_end_object(j);
	pvpci_json_end_object(j);
	/* What Python's json.dumps(indent=2) prints for the same value. */
	want_doc(j, "{\n"
		  "  \"a\": -1,\n"
		  "  \"b\": [\n"
		  "    2,\n"
		  "    {\n"
		  "      \"k\": \"v\"\n"
		  "    }\n"
		  "  ],\n"
		  "  \"empty\": [],\n"
		  "  \"none\": {}\n"
		  "}");
}

static void test_scalar_documents(void **state)
{
	struct pvpci_json *j = writer(PVPCI_JSON_PRETTY);

	(void)state;
	pvpci_json_uint(j, NULL, 7);
	want_doc(j, "7");
	j = writer(0);
	pvpci_json_string(j, NULL, NULL);
	want_doc(j, "null");
}

static void test_escapes(void **state)
{
	(void)state;
	want_string(S("plain / text"), "\"plain / text\"");
	want_string(S("\"q\" \\b\\"), "\"\\\"q\\\" \\\\b\\\\\"");
	want_string(S("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
	want_string(S("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
	want_string(S("a\0b"), "\"a\\u0000b\"");
	want_string(S(""), "\"\"");
	/* Keys are strings like any other. */
	struct pvpci_json *j = writer(0);

	pvpci_json_begin_object(j, NULL);
	pvpci_json_bool(j, "a\"b\n", true);
	pvpci_json_end_object(j);
	want_doc(j, "{\"a\\\"b\\n\":true}");
}

static void test_utf8(void **state)
{
	(void)state;
	/* Well-formed: passes through, 2, 3 and 4 bytes, at the edges of
	 * what the second byte may be. */
	want_string(S("\xc3\xa9t\xc3\xa9"), "\"\xc3\xa9t\xc3\xa9\"");
	want_string(S("\xe2\x82\xac\xf0\x9f\x98\x80"), "\"\xe2\x82\xac\xf0\x9f\x98\x80\"");
	want_string(S("\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"), "\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\"");
	want_string(S("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"), "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
	/* Line and paragraph separators: escaped for JavaScript's sake. */
	want_string(S("\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa"), "\"\\u2028\\u2029\xe2\x80\xaa\"");
	/* Ill-formed: one U+FFFD per maximal subpart, as Python's "replace". */
	want_string(S("\x80"), "\"\\ufffd\"");
	want_string(S("\xc0\xaf"), "\"\\ufffd\\ufffd\"");		/* overlong */
	want_string(S("\xe0\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\"");	/* overlong */
	want_string(S("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");	/* surrogate */
	want_string(S("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");	/* > U+10FFFF */
	want_string(S("a\xe2\x82"), "\"a\\ufffd\"");			/* truncated at the end */
	want_string(S("\xe2\x82" "A"), "\"\\ufffdA\"");		/* cut by ASCII */
	want_string(S("\xf0\x9f\x98\xf0\x9f\x98\x80"), "\"\\ufffd\xf0\x9f\x98\x80\"");
	want_string(S("\xff\xfe\xf5\xc1"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

/* A JSON string's value back: the escapes the writer uses undone. */
static size_t unescape(const char *s, char *out)
{
	size_t n = 0;

	assert_int_equal(*s++, '"');
	while (*s != '"') {
		assert_true((unsigned char)*s >= 0x20);
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case '"': case '\\': out[n++] = *s; break;
		case 'u': {
			unsigned cp = (unsigned)strtoul((char[5]){ s[1], s[2], s[3], s[4], 0 }, NULL, 16);

			if (cp < 0x80) {
				out[n++] = (char)cp;
			} else {	/* U+2028, U+2029 */
				out[n++] = (char)(0xe0 | cp >> 12);
				out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			}
			s += 4;
			break;
		}
		default: fail_msg("unexpected escape \\%c", *s);
		}
		s++;
	}
	assert_int_equal(s[1], '\0');
	return n;
}

/* Random well-formed UTF-8 (every code point class, controls included)
 * reads back exactly as it went in. */
static void test_roundtrip(void **state)
{
	static char in[4096], back[4096];

	(void)state;
	srand(8);
	for (int round = 0; round < 500; round++) {
		struct pvpci_json *j = writer(0);
		const char *text;
		size_t n = 0;

		while (n < sizeof(in) - 4) {
			unsigned cp = (unsigned)rand() % 0x110000;

			switch (rand() % 4) {
			case 0: cp %= 0x80; break;
			case 1: cp = 0x2028 + (cp & 1); break;
			}
			if (cp >= 0xd800 && cp < 0xe000)
				continue;
			if (cp < 0x80) {
				in[n++] = (char)cp;
			} else if (cp < 0x800) {
				in[n++] = (char)(0xc0 | cp >> 6);
				in[n++] = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				in[n++] = (char)(0xe0 | cp >> 12);
				in[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
				in[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				in[n++] = (char)(0xf0 | cp >> 18);
				in[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
				in[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
				in[n++] = (char)(0x80 | (cp & 0x3f));
			}
			if (rand() % 64 == 0)
				break;
		}
		pvpci_json_string_len(j, NULL, in, n);
		assert_int_equal(pvpci_json_finish(j, &text, NULL), 0);
		assert_int_equal(unescape(text, back), n);
		assert_memory_equal(back, in, n);
		pvpci_json_free(j);
	}
}

static void test_numbers(void **state)
{
	struct pvpci_json *j = writer(0);

	(void)state;
	pvpci_json_begin_array(j, NULL);
	pvpci_json_int(j, NULL, 0);
	pvpci_json_int(j, NULL, INT64_MIN);
	pvpci_json_int(j, NULL, INT64_MAX);
	pvpci_json_uint(j, NULL, UINT64_MAX);
	pvpci_json_uint(j, NULL, 0xffffffffu);
	pvpci_json_end_array(j);
	want_doc(j, "[0,-9223372036854775808,9223372036854775807,18446744073709551615,4294967295]");
}

static void test_hex(void **state)
{
	static const uint8_t b[] = { 0x00, 0x0f, 0xab, 0xff };
	struct pvpci_json *j = writer(0);

	(void)state;
	pvpci_json_begin_object(j, NULL);
	pvpci_json_hex(j, "b", b, sizeof(b));
	pvpci_json_hex(j, "e", b, 0);
	pvpci_json_end_object(j);
	want_doc(j, "{\"b\":\"000fabff\",\"e\":\"\"}");
}

/* A document far bigger than the first buffer, in one string. */
static void test_growth(void **state)
{
	static uint8_t cfg[4096 * 4];
	struct pvpci_json *j = writer(0);
	const char *text;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cfg); i++)
		cfg[i] = (uint8_t)i;
	pvpci_json_hex(j, NULL, cfg, sizeof(cfg));
	assert_int_equal(pvpci_json_finish(j, &text, &len), 0);
	assert_int_equal(len, 2 * sizeof(cfg) + 2);
	assert_memory_equal(text, "\"000102", 7);
	assert_memory_equal(text + len - 5, "feff\"", 5);
	pvpci_json_free(j);
}

/* Each misuse: the error it leaves, and finish's outputs untouched. */
static void want_error(struct pvpci_json *j, int err)
{
	const char *text = "untouched";
	size_t len = 99;

	assert_int_equal(pvpci_json_finish(j, &text, &len), err);
	assert_string_equal(text, "untouched");
	assert_int_equal(len, 99);
	/* Sticky: nothing written after an error mends it. */
	pvpci_json_null(j, NULL);
	assert_int_equal(pvpci_json_finish(j, &text, &len), err);
	pvpci_json_free(j);
}

static void test_misuse(void **state)
{
	struct pvpci_json *j;

	(void)state;
	j = writer(0);			/* nothing written */
	want_error(j, -EINVAL);

	j = writer(0);			/* a key in an array */
	pvpci_json_begin_array(j, NULL);
	pvpci_json_uint(j, "k", 1);
	pvpci_json_end_array(j);
	want_error(j, -EINVAL);

	j = writer(0);			/* no key in an object */
	pvpci_json_begin_object(j, NULL);
	pvpci_json_uint(j, NULL, 1);
	pvpci_json_end_object(j);
	want_error(j, -EINVAL);

	j = writer(0);			/* a key at the top */
	pvpci_json_uint(j, "k", 1);
	want_error(j, -EINVAL);

	j = writer(0);			/* the wrong end */
	pvpci_json_begin_object(j, NULL);
	pvpci_json_end_array(j);
	want_error(j, -EINVAL);

	j = writer(0);			/* an end with nothing open */
	pvpci_json_uint(j, NULL, 1);
	pvpci_json_end_object(j);
	want_error(j, -EINVAL);

	j = writer(0);			/* two documents */
	pvpci_json_begin_object(j, NULL);
	pvpci_json_end_object(j);
	pvpci_json_begin_object(j, NULL);
	pvpci_json_end_object(j);
	want_error(j, -EINVAL);

	j = writer(0);			/* left open */
	pvpci_json_begin_array(j, NULL);
	pvpci_json_begin_object(j, NULL);
	pvpci_json_end_object(j);
	want_error(j, -EINVAL);

	j = writer(0);			/* as deep as allowed, then one more */
	for (int i = 0; i < PVPCI_JSON_MAX_DEPTH; i++)
		pvpci_json_begin_array(j, NULL);
	for (int i = 0; i < PVPCI_JSON_MAX_DEPTH; i++)
		pvpci_json_end_array(j);
	assert_int_equal(pvpci_json_finish(j, &(const char *){ NULL }, NULL), 0);
	pvpci_json_free(j);
	j = writer(0);
	for (int i = 0; i <= PVPCI_JSON_MAX_DEPTH; i++)
		pvpci_json_begin_array(j, NULL);
	want_error(j, -E2BIG);

	pvpci_json_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_compact),
		cmocka_unit_test(test_nesting_pretty),
		cmocka_unit_test(test_scalar_documents),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
