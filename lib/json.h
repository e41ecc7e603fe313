/*
 * A JSON writer: what `pvpci ... --json` prints, built in memory so that a
 * program prints a whole document or nothing.  Owns the syntax only:
 * nesting, commas, indentation, string escaping and number formatting;
 * what the documents hold is the callers' (lib/view.c, src/pvpci.c) and
 * doc/schema/'s.  Private to the library and pvpci (not installed, not
 * exported): the documents are the interface, not this writer.
 *
 * Every value takes the key it has in its object, or NULL inside an array
 * and at the top.  Errors are sticky: the first misuse (a key in an array,
 * none in an object, an end that does not match, a second top-level value,
 * nesting deeper than PVPCI_JSON_MAX_DEPTH) or allocation failure stops
 * the writer, and pvpci_json_finish says which; callers check once, there.
 *
 * Strings are written as valid UTF-8 whatever they hold: ", \ and the
 * control characters (U+0000-U+001F, DEL) are escaped, U+2028 and U+2029
 * too (so the text is also a JavaScript literal), well-formed UTF-8 passes
 * through, and each maximal ill-formed subsequence (a stray continuation
 * byte, an overlong form, a surrogate, a truncated sequence, a byte
 * 0xf5-0xff) becomes one U+FFFD, as Unicode's "substitution of maximal
 * subparts" (and Python's errors="replace") has it.  Numbers are integers,
 * in decimal, whatever the locale: every number pvpci prints is one.
 */
#ifndef PVPCI_LIB_JSON_H
#define PVPCI_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PVPCI_JSON_MAX_DEPTH 32

enum pvpci_json_flags {
	PVPCI_JSON_PRETTY = 1u << 0,	/* newlines and two-space indents, "key": value */
};

struct pvpci_json;

/* A writer with nothing written.  0, or -ENOMEM with *ret untouched. */
int pvpci_json_new(unsigned flags, struct pvpci_json **ret);
void pvpci_json_free(struct pvpci_json *j);	/* NULL is fine */

void pvpci_json_begin_object(struct pvpci_json *j, const char *key);
void pvpci_json_end_object(struct pvpci_json *j);
void pvpci_json_begin_array(struct pvpci_json *j, const char *key);
void pvpci_json_end_array(struct pvpci_json *j);

/* s NULL writes null. */
void pvpci_json_string(struct pvpci_json *j, const char *key, const char *s);
/* len bytes of s, NULs included (escaped). */
void pvpci_json_string_len(struct pvpci_json *j, const char *key, const char *s, size_t len);
/* n bytes as a string of 2n lowercase hex digits. */
void pvpci_json_hex(struct pvpci_json *j, const char *key, const uint8_t *p, size_t n);
void pvpci_json_int(struct pvpci_json *j, const char *key, int64_t v);
void pvpci_json_uint(struct pvpci_json *j, const char *key, uint64_t v);
void pvpci_json_bool(struct pvpci_json *j, const char *key, bool v);
void pvpci_json_null(struct pvpci_json *j, const char *key);

/*
 * The document: 0 and its text (NUL-terminated, no final newline, owned
 * by j until pvpci_json_free) when exactly one top-level value was written
 * and closed; else the sticky error: -EINVAL (misuse, or an unfinished
 * document), -E2BIG (too deep) or -ENOMEM, the outputs untouched.
 */
int pvpci_json_finish(struct pvpci_json *j, const char **ret_text, size_t *ret_len);

#endif
