#!/usr/bin/env python3
"""What test_json.sh checks of a `pvpci ... --json` document: that it
parses, that it is valid against its schema in doc/schema/, and that it
says what the verb's text says.  Prints "ok - ..." / "not ok - ..." lines
(test_json.sh numbers them) and, under a "not ok", why.

    json_check.py view   SCHEMA JSON LSPCI_TEXT TABLE_TEXT STDERR [LSPCI_F]
    json_check.py front  SCHEMA JSON TEXT [VIEW_JSON]
    json_check.py list   SCHEMA JSON TEXT
    json_check.py assignable SCHEMA JSON TEXT
    json_check.py schema SCHEMA JSON [EXPECTED]
    json_check.py schemas SCHEMA...

EXPECTED is a Python dict literal of dotted paths and their values, e.g.
{'host': 'sim:x', 'functions.0.bdf': '0000:00:03.0'}.

The schemas are checked by a validator of the keywords they use, written
here so that the check runs wherever python3 does and refuses a keyword
it does not know; where the jsonschema module is importable (Debian:
python3-jsonschema), it checks the schemas against the 2020-12 metaschema
and every document against its schema too.
"""
import ast
import json
import re
import sys

results = []


def check(desc, problems):
    """One TAP line: problems is a list of strings, empty when fine."""
    problems = [p for p in problems if p]
    results.append(('ok - ' if not problems else 'not ok - ') + desc)
    results.extend(p[:300] for p in problems[:8])
    return not problems


# ---- a validator for the keywords of doc/schema/ (JSON Schema 2020-12) ----

ANNOTATIONS = {'$schema', 'title', 'description', '$defs'}
TYPES = {
    'object': lambda v: isinstance(v, dict),
    'array': lambda v: isinstance(v, list),
    'string': lambda v: isinstance(v, str),
    'integer': lambda v: isinstance(v, int) and not isinstance(v, bool),
    'number': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'boolean': lambda v: isinstance(v, bool),
    'null': lambda v: v is None,
}


def same(a, b):
    """JSON equality: true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def validate(v, s, root, path='$'):
    """The errors of v against schema s, as strings."""
    errs = []
    for k in s:
        if k not in ANNOTATIONS and k not in KEYWORDS:
            raise ValueError('schema keyword %s at %s is not known to this validator' % (k, path))
    for k, val in s.items():
        if k in KEYWORDS:
            errs += KEYWORDS[k](v, val, s, root, path)
    return errs


def kw_ref(v, ref, s, root, path):
    if not ref.startswith('#/'):
        raise ValueError('only local $ref: ' + ref)
    target = root
    for part in ref[2:].split('/'):
        target = target[part]
    return validate(v, target, root, path)


def kw_properties(v, props, s, root, path):
    if not isinstance(v, dict):
        return []
    errs = []
    for k, sub in props.items():
        if k in v:
            errs += validate(v[k], sub, root, path + '.' + k)
    return errs


def kw_additional(v, extra, s, root, path):
    if not isinstance(v, dict):
        return []
    errs = []
    for k in v:
        if k in s.get('properties', {}):
            continue
        if extra is False:
            errs.append('%s: member %s is not in the schema' % (path, k))
        elif isinstance(extra, dict):
            errs += validate(v[k], extra, root, path + '.' + k)
    return errs


def kw_oneof(v, subs, s, root, path):
    matched = [i for i, sub in enumerate(subs) if not validate(v, sub, root, path)]
    if len(matched) == 1:
        return []
    if matched:
        return ['%s: matches %d of oneOf, not one' % (path, len(matched))]
    # The closest alternative's errors say most.
    return min((validate(v, sub, root, path) for sub in subs), key=len)


def kw_type(v, t, s, root, path):
    ts = t if isinstance(t, list) else [t]
    return [] if any(TYPES[x](v) for x in ts) else ['%s: %r is not %s' % (path, v, t)]


def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


KEYWORDS = {
    '$ref': kw_ref,
    'type': kw_type,
    'properties': kw_properties,
    'additionalProperties': kw_additional,
    'oneOf': kw_oneof,
    'required': lambda v, r, s, root, path: [
        '%s: no member %s' % (path, k) for k in r if isinstance(v, dict) and k not in v],
    'items': lambda v, sub, s, root, path: sum(
        (validate(x, sub, root, '%s[%d]' % (path, i)) for i, x in enumerate(v)), []) if isinstance(v, list) else [],
    'enum': lambda v, e, s, root, path: [] if any(same(v, x) for x in e) else ['%s: %r not in %r' % (path, v, e)],
    'const': lambda v, c, s, root, path: [] if same(v, c) else ['%s: %r is not %r' % (path, v, c)],
    'minimum': lambda v, m, s, root, path: ['%s: %r < %r' % (path, v, m)] if num(v) and v < m else [],
    'maximum': lambda v, m, s, root, path: ['%s: %r > %r' % (path, v, m)] if num(v) and v > m else [],
    'minLength': lambda v, m, s, root, path: ['%s: shorter than %d' % (path, m)] if isinstance(v, str) and len(v) < m else [],
    'maxLength': lambda v, m, s, root, path: ['%s: longer than %d' % (path, m)] if isinstance(v, str) and len(v) > m else [],
    'pattern': lambda v, p, s, root, path: ['%s: %r does not match %s' % (path, v[:40], p)]
    if isinstance(v, str) and not re.search(p, v) else [],
}


def load(schema_path, json_path):
    """The document, checked against the schema; None when it does not parse."""
    schema = json.load(open(schema_path))
    name = schema_path.rsplit('/', 1)[-1]
    try:
        # Strictly: no NaN or Infinity, no duplicate members.
        def no_dups(pairs):
            keys = [k for k, _ in pairs]
            if len(keys) != len(set(keys)):
                raise ValueError('duplicate member in %s' % keys)
            return dict(pairs)
        raw = open(json_path, 'rb').read()
        doc = json.loads(raw.decode('utf-8'), object_pairs_hook=no_dups,
                         parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (ValueError, UnicodeDecodeError) as e:
        check('the output parses as JSON (UTF-8)', [str(e)])
        return None
    check('the output parses as JSON (UTF-8)', [] if raw.endswith(b'}\n') else ['not one object and a newline'])
    check('valid against ' + name, validate(doc, schema, schema))
    try:
        import jsonschema
    except ImportError:
        return doc
    v = jsonschema.Draft202012Validator
    check('valid against ' + name + ' (jsonschema)',
          ['%s: %s' % ('/'.join(map(str, e.absolute_path)), e.message) for e in v(schema).iter_errors(doc)])
    return doc


# ---- the text outputs ----

def dump_blocks(text):
    """`lspci -xxxx` text (pvpci's or lspci's): [(address, description, bytes)]."""
    out = []
    for line in text.split('\n'):
        m = re.match(r'^((?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ?(.*)$', line)
        if m:
            addr = m.group(1) if len(m.group(1)) > 7 else '0000:' + m.group(1)
            out.append([addr, m.group(2), bytearray()])
            continue
        m = re.match(r'^([0-9a-f]{2,3}): ((?:[0-9a-f]{2} ?)+)$', line)
        if m and out:
            if int(m.group(1), 16) != len(out[-1][2]):
                raise ValueError('hex line %s out of order' % m.group(1))
            out[-1][2] += bytes.fromhex(m.group(2))
    return [(a, d, bytes(b)) for a, d, b in out]


def printable(s):
    """What pvpci's text makes of a description: controls as spaces."""
    return ''.join(' ' if ord(c) < 0x20 or ord(c) == 0x7f else c for c in s)


def ids_problems(f):
    """The identity members agree with the bytes they came from and the address."""
    cfg = bytes.fromhex(f['config'])
    le = lambda o, n: int.from_bytes(cfg[o:o + n], 'little')
    p = []
    if len(cfg) != f['config_size']:
        p.append('%s: %d config bytes, config_size %d' % (f['bdf'], len(cfg), f['config_size']))
    want = {'vendor_id': le(0, 2), 'device_id': le(2, 2), 'class': le(9, 3), 'revision': cfg[8],
            'header_type': cfg[14] & 0x7f, 'multifunction': bool(cfg[14] & 0x80)}
    if cfg[14] & 0x7f == 0:
        want.update(subsystem_vendor_id=le(0x2c, 2), subsystem_id=le(0x2e, 2))
    for k, w in want.items():
        if not same(f.get(k), w):
            p.append('%s: %s %r, its config says %r' % (f['bdf'], k, f.get(k), w))
    addr = '%04x:%02x:%02x.%x' % (f['domain'], f['bus'], f['dev'], f['func'])
    if addr != f['bdf']:
        p.append('%s: the numbers say %s' % (f['bdf'], addr))
    return p


def table_blocks(text):
    """`pvpci view --format table`: {address: block}, and the refused lines."""
    blocks, refused = {}, []
    for chunk in text.split('\n\n'):
        lines = [l for l in chunk.split('\n') if l]
        if not lines:
            continue
        if lines[0].endswith(': not exportable') and len(lines) == 1:
            refused.append(lines[0][:-len(': not exportable')])
            continue
        addr, desc = lines[0].split(' ', 1)
        b = {'description': desc, 'rows': [], 'chain': None}
        for l in lines[1:]:
            m = re.match(r'^  config space: (\d+) bytes; mode: (\w+)$', l)
            if m:
                b['size'], b['mode'] = int(m.group(1)), m.group(2)
                continue
            if l.startswith('  capabilities:'):
                b['caps'] = re.findall(r'\[([0-9a-f]+)( ext)?\] (.*?) \((kept|hidden)\)', l)
                continue
            if l.startswith('  chain: '):
                b['chain'] = l[len('  chain: '):]
                continue
            m = re.match(r'^  0x([0-9a-f]+)  (\d+) +(.*?) +(0x[0-9a-f]+|zero|data) +(0x[0-9a-f]+|as host) +(.+)$', l)
            if m:
                b['rows'].append((int(m.group(1), 16), int(m.group(2)), m.group(3), m.group(4), m.group(5), m.group(6)))
        blocks[addr] = b
    return blocks, refused


def table_rows(f):
    """The table's rows as the JSON says them."""
    rows = []
    for r in f['registers']:
        rows.append((r['offset'], r['size'], r['name'], '0x%0*x' % (2 * r['size'], r['host']),
                     '0x%0*x' % (2 * r['size'], r['guest']), r['policy']))
    for u in f['unhandled']:
        name = '(unused, all zero)' if u['all_zero'] and u['length'] >= 64 else '(unhandled bytes)'
        rows.append((u['offset'], u['length'], name, 'zero' if u['all_zero'] else 'data', 'as host',
                     'passthrough' if u['writes'] == 'passthrough' else 'passthrough reads, writes dropped'))
    return sorted(rows)


def cmd_view(schema, path, lspci, table, stderr, lspci_f=None):
    doc = load(schema, path)
    if doc is None:
        return
    funcs = doc['functions']
    exp = [f for f in funcs if f['exportable']]
    ref = [f for f in funcs if not f['exportable']]
    p = [q for f in exp for q in ids_problems(f)]
    for f in exp:
        cfg, host = bytes.fromhex(f['config']), bytes.fromhex(f['host_config'])
        covered = bytearray(f['config_size'])
        for r in f['registers']:
            o, n = r['offset'], r['size']
            if r['guest'] != int.from_bytes(cfg[o:o + n], 'little') or r['host'] != int.from_bytes(host[o:o + n], 'little'):
                p.append('%s: register %s at 0x%x: values are not the config bytes' % (f['bdf'], r['name'], o))
            for b in range(o, o + n):
                covered[b] += 1
        for u in f['unhandled']:
            if u['all_zero'] != (host[u['offset']:u['offset'] + u['length']] == bytes(u['length'])):
                p.append('%s: unhandled 0x%x: all_zero wrong' % (f['bdf'], u['offset']))
            for b in range(u['offset'], u['offset'] + u['length']):
                covered[b] += 1
        if any(c != 1 for c in covered):
            p.append('%s: registers and unhandled runs do not cover the config space once' % f['bdf'])
        if f['permissive'] != doc['permissive'] or any(
                u['writes'] != ('passthrough' if f['permissive'] else 'dropped') for u in f['unhandled']):
            p.append('%s: permissive and the unhandled writes disagree' % f['bdf'])
    check('%d functions: identity, registers and runs agree with the config bytes' % len(exp), p)

    # The lspci text: the same functions, descriptions and bytes.
    blocks = dump_blocks(open(lspci).read())
    p = []
    if [b[0] for b in blocks] != [f['bdf'] for f in exp]:
        p.append('text: %s, JSON: %s' % ([b[0] for b in blocks], [f['bdf'] for f in exp]))
    for (addr, desc, cfg), f in zip(blocks, exp):
        if desc != printable(f['description']):
            p.append('%s: description %r, text %r' % (addr, f['description'], desc))
        if cfg.hex() != f['config']:
            p.append('%s: config bytes differ from pvpci view' % addr)
    check('config bytes and descriptions equal pvpci view\'s lspci text', p)
    if lspci_f:
        got = {a: c for a, _, c in dump_blocks(open(lspci_f).read())}
        check('config bytes equal what lspci -F reads of pvpci view',
              ['%s: lspci -F reads other bytes' % f['bdf'] for f in exp if got.get(f['bdf'], b'').hex() != f['config']] +
              ([] if len(got) == len(exp) else ['lspci -F shows %d functions' % len(got)]))

    # The table: identity, capabilities, chain, every row.
    tb, tref = table_blocks(open(table).read())
    p = []
    if sorted(tb) != sorted(f['bdf'] for f in exp):
        p.append('table functions %s' % sorted(tb))
    for f in exp:
        b = tb.get(f['bdf'])
        if not b:
            continue
        caps = [('%x' % c['offset'], ' ext' if c['extended'] else '', c['name'], 'kept' if c['visible'] else 'hidden')
                for c in f['capabilities']]
        if b.get('caps', []) != caps:
            p.append('%s: capabilities %s, table %s' % (f['bdf'], caps, b.get('caps')))
        if (b.get('size'), b.get('mode')) != (f['config_size'], 'permissive' if f['permissive'] else 'strict'):
            p.append('%s: size/mode differ' % f['bdf'])
        if b['chain'] != f['chain_note']:
            p.append('%s: chain %r, table %r' % (f['bdf'], f['chain_note'], b['chain']))
        if b['rows'] != table_rows(f):
            diff = [r for r in table_rows(f) if r not in b['rows']][:2] + [r for r in b['rows'] if r not in table_rows(f)][:2]
            p.append('%s: rows differ: %s' % (f['bdf'], diff))
        if b['description'] not in (f['description'], printable(f['description'])):
            p.append('%s: description %r, table %r' % (f['bdf'], f['description'], b['description']))
    if tref != [f['error'] for f in ref]:
        p.append('refused in the table %s, in JSON %s' % (tref, [f['error'] for f in ref]))
    check('capabilities, chain notes and every row equal pvpci view --format table', p)

    # stderr: a refused function and every engine message, in order.
    said = [l[len('pvpci: '):] for l in open(stderr).read().split('\n') if l.startswith('pvpci: ')]
    want = []
    for f in funcs:
        want += [('warning: ' if m['level'] in ('warning', 'error') else '') + m['text'] for m in f['messages']]
        if not f['exportable']:
            want.append(f['error'] + ': not exportable')
    check('%d refused and %d messages, as said on stderr' % (len(ref), sum(len(f['messages']) for f in funcs)),
          [] if said == want else ['stderr %s' % said[:4], 'JSON   %s' % want[:4]])


def cmd_front(schema, path, text, view=None):
    doc = load(schema, path)
    if doc is None:
        return
    funcs = doc['functions']
    p = [q for f in funcs for q in ids_problems(f)]
    roots = ['%04x:%02x' % (r['domain'], r['bus']) for r in doc['roots']]
    p += ['%s is on no root %s' % (f['bdf'], roots) for f in funcs if f['bdf'][:7] not in roots]
    check('%d functions: identity agrees with the config bytes, each on a root' % len(funcs), p)
    blocks = dump_blocks(open(text).read())
    p = []
    if [b[0] for b in blocks] != [f['bdf'] for f in funcs]:
        p.append('text %s, JSON %s' % ([b[0] for b in blocks], [f['bdf'] for f in funcs]))
    for (addr, desc, cfg), f in zip(blocks, funcs):
        if cfg.hex() != f['config'] or desc != printable(f['description']):
            p.append('%s: bytes or description differ from pvpci front lspci' % addr)
    check('addresses, descriptions and config bytes equal pvpci front lspci', p)
    if view:
        v = {f['bdf']: f for f in json.load(open(view))['functions'] if f['exportable']}
        check('each function\'s bytes equal view --json\'s at the same address (passthrough)',
              ['%s: differs from view --json' % f['bdf'] for f in funcs if v.get(f['bdf'], {}).get('config') != f['config']])


def cmd_list(schema, path, text):
    doc = load(schema, path)
    if doc is None:
        return
    lines = open(text).read().split('\n')
    lines = [l for l in lines if l]
    want = (['Vdev Device'] if doc['functions'] else []) + [
        '%02x.%x %s' % (f['vslot'], f['vfunc'], f['bdf']) for f in doc['functions']]
    p = [] if lines == want else ['text %s' % lines, 'JSON %s' % want]
    p += ['%s: vdevfn %d, vslot %d, vfunc %d' % (f['bdf'], f['vdevfn'], f['vslot'], f['vfunc'])
          for f in doc['functions'] if f['vdevfn'] != f['vslot'] << 3 | f['vfunc']]
    p += ['%s: numbers say otherwise' % f['bdf'] for f in doc['functions']
          if '%04x:%02x:%02x.%x' % (f['domain'], f['bus'], f['dev'], f['func']) != f['bdf']]
    check('domain %d: %d functions, as pvpci list prints them' % (doc['domid'], len(doc['functions'])), p)


def cmd_assignable(schema, path, text):
    doc = load(schema, path)
    if doc is None:
        return
    lines = [l for l in open(text).read().split('\n') if l]
    want = ['%s %s' % (f['bdf'], f['name'] or '') for f in doc['functions']]
    p = [] if lines == want else ['text %s' % lines, 'JSON %s' % want]
    p += ['%s: numbers say otherwise' % f['bdf'] for f in doc['functions']
          if '%04x:%02x:%02x.%x' % (f['domain'], f['bus'], f['dev'], f['func']) != f['bdf']]
    check('%d functions, as pvpci assignable-list -n prints them' % len(doc['functions']), p)


def cmd_schema(schema, path, expected=None):
    """Valid, and (given a Python literal) members equal to it."""
    doc = load(schema, path)
    if doc is None or expected is None:
        return
    want = ast.literal_eval(expected)
    got = {}
    for k in want:      # a dotted path: members and array indexes
        v = doc
        for part in k.split('.'):
            v = v[int(part)] if isinstance(v, list) else v.get(part)
        got[k] = v
    check('members %s' % sorted(want), [] if got == want else ['got %r' % got, 'expected %r' % want])


def known(s, path='$'):
    """Every keyword of s and its subschemas is one validate() knows."""
    for k, v in s.items():
        if k not in ANNOTATIONS and k not in KEYWORDS:
            raise ValueError('schema keyword %s at %s is not known to this validator' % (k, path))
    for k in ('properties', '$defs'):
        for name, sub in s.get(k, {}).items():
            known(sub, '%s/%s/%s' % (path, k, name))
    for k in ('items', 'additionalProperties'):
        if isinstance(s.get(k), dict):
            known(s[k], path + '/' + k)
    for i, sub in enumerate(s.get('oneOf', [])):
        known(sub, '%s/oneOf/%d' % (path, i))


def cmd_schemas(*paths):
    """Each schema: JSON, of 2020-12, only keywords the validator here knows,
    and (with the jsonschema module) valid against the metaschema."""
    try:
        import jsonschema
    except ImportError:
        jsonschema = None
        results.append('jsonschema is not importable: documents are checked by this script only')
    for path in paths:
        name = path.rsplit('/', 1)[-1]
        p = []
        try:
            schema = json.load(open(path))
            if schema.get('$schema') != 'https://json-schema.org/draft/2020-12/schema':
                p.append('$schema is not draft 2020-12')
            known(schema)
            if jsonschema:
                jsonschema.Draft202012Validator.check_schema(schema)
        except Exception as e:
            p.append('%s: %s' % (type(e).__name__, getattr(e, 'message', e)))
        check('%s is a JSON Schema 2020-12%s' % (name, ' (and jsonschema says so)' if jsonschema else ''), p)


if __name__ == '__main__':
    cmds = {'view': cmd_view, 'front': cmd_front, 'list': cmd_list, 'assignable': cmd_assignable,
            'schema': cmd_schema, 'schemas': cmd_schemas}
    try:
        cmds[sys.argv[1]](*sys.argv[2:])
    except Exception as e:      # a check that cannot run is a failure
        check('%s checks run' % sys.argv[1], ['%s: %s' % (type(e).__name__, e)])
    print('\n'.join(results))
