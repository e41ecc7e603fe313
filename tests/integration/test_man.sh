#!/bin/sh
# The man pages (man/): each renders with no warning (groff -ww, mandoc's
# lint where mandoc is installed, man -l), and says every verb and option
# its program's --help prints (and pvpci VERB --help, where a verb has a
# usage of its own); every option a page's OPTIONS section
# lists is one --help prints, so that neither can drift from the other.
# TAP on stdout; every process under a time limit.
set -u
. "${PVPCI_SRC:?}/tests/integration/tap_lib.sh"

for page in "$src"/man/pvpci.1 "$src"/man/pvpcid.8 "$src"/man/pvpci-stored.8; do
	name=${page##*/}
	prog=${name%.[0-9]}
	if timeout 30 groff -man -Tutf8 -ww -z "$page" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then
		ok "$name: groff -man -ww, no warning"
	else
		notok "$name: groff -man -ww, no warning" "$(cat "$tmp/out")"
	fi
	if command -v mandoc >/dev/null; then
		if timeout 30 mandoc -Tlint -W style "$page" >"$tmp/out" 2>&1; then
			ok "$name: mandoc -Tlint, not even a style note"
		else
			notok "$name: mandoc -Tlint, not even a style note" "$(cat "$tmp/out")"
		fi
	else
		ok "# SKIP $name: mandoc -Tlint (no mandoc)"
	fi
	if MANWIDTH=80 timeout 30 man -l "$page" >"$tmp/rendered" 2>"$tmp/err" && [ ! -s "$tmp/err" ] &&
		grep -q "^NAME" "$tmp/rendered"; then
		ok "$name: man -l renders it, nothing on stderr"
	else
		notok "$name: man -l renders it, nothing on stderr" "$(cat "$tmp/err")"
	fi
	if ! timeout 30 "$bin/$prog" --help >"$tmp/help" 2>&1; then
		notok "$prog --help exits 0" "$(cat "$tmp/help")"
		continue
	fi
	# A verb with a usage of its own (pvpci replay --help) adds to it.
	if [ "$prog" = pvpci ]; then
		for v in $(sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p; s/^  \([a-z][a-z-]*\)$/\1/p' "$tmp/help"); do
			timeout 30 "$bin/pvpci" "$v" --help >"$tmp/vhelp" 2>/dev/null </dev/null
			cmp -s "$tmp/vhelp" "$tmp/help" || cat "$tmp/vhelp" >>"$tmp/help"
		done
	fi
	python3 - "$tmp/help" "$page" >"$tmp/cmp" <<'EOF'
import re, sys
help_text = open(sys.argv[1]).read()
src = open(sys.argv[2]).read()

def plain(roff):
    """The page's text with roff's escapes for hyphens and fonts gone."""
    t = re.sub(r'\\f(\[[^]]*\]|\(..|.)', '', roff)
    t = t.replace('\\-', '-').replace('\\e', '\\').replace('\\c', '').replace('\\&', '')
    return t

OPT = r'(?<![\w./-])(--?[A-Za-z][A-Za-z0-9-]*)'
def options(text):
    return set(m.group(1) for m in re.finditer(OPT, text))

def has(text, word):
    return re.search(r'(?<![\w-])' + re.escape(word) + r'(?![\w-])', text) is not None

page = plain(src)
# What --help names: options anywhere, verbs and subcommands where a line
# starts with one (two spaces in, or ten for pvpci front's subcommands).
wanted = options(help_text)
verbs = set(re.findall(r'^(?:  |          )([a-z][a-z-]*)\b', help_text, re.M))
missing = sorted(w for w in wanted | verbs if not has(page, w))
print('%d options and %d verbs in --help; missing from the page: %s'
      % (len(wanted), len(verbs), ' '.join(missing) or 'none'))

# The page's OPTIONS: the tag line after each .TP names options.
m = re.search(r'^\.SH OPTIONS\n(.*?)(?=^\.SH )', src, re.M | re.S)
tags = set()
if m:
    lines = m.group(1).split('\n')
    for i, l in enumerate(lines[:-1]):
        if l.startswith('.TP'):
            tags |= options(plain(lines[i + 1]))
stale = sorted(t for t in tags - {'-h', '--help'} if not has(help_text, t))
print('%d options under OPTIONS; not in --help: %s' % (len(tags), ' '.join(stale) or 'none'))
sys.exit(1 if missing or stale or len(tags) < 5 else 0)
EOF
	if [ $? -eq 0 ]; then
		ok "$name: every verb and option of $prog --help, and no other option under OPTIONS"
	else
		notok "$name: every verb and option of $prog --help, and no other option under OPTIONS" \
			"$(cat "$tmp/cmp")"
	fi
done
finish
