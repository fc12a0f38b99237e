#!/usr/bin/env python3
"""check.py NAME.expect VERDICTS - compare lifelined's --verdicts lines with
the expectation; prints nothing when they agree, else one line saying why.

NAME.expect, one frame or range per line ('#' comments):
    N alerts SID...              frame N accepted, these sids alerted (any order)
    N drop BY [SID] [alerts SID...]   frame N dropped by BY (ips: with rule SID)
    N-M accept BY | N-M drop BY  a range of frames with that verdict and `by`
Every frame not named: accepted, no alerts."""
import json, sys

def parse(path):
    want = {}
    for ln, line in enumerate(open(path), 1):
        t = line.split('#')[0].split()
        if not t:
            continue
        a, _, b = t[0].partition('-')
        frames = range(int(a), int(b or a) + 1)
        e = {'verdict': 'accept', 'alerts': []}
        i = 1
        if i < len(t) and t[i] in ('accept', 'drop'):
            e['verdict'] = t[i]
            e['by'] = t[i + 1]
            i += 2
            if i < len(t) and t[i].isdigit():
                e['rule'] = int(t[i])
                i += 1
        if i < len(t) and t[i] == 'alerts':
            e['alerts'] = sorted(int(x) for x in t[i + 1:])
        elif i != len(t):
            sys.exit('%s:%d: cannot parse %r' % (path, ln, line.strip()))
        for n in frames:
            want[n] = e
    return want

want = parse(sys.argv[1])
got = {}
for line in open(sys.argv[2]):
    v = json.loads(line)
    got[v['n']] = v
bad = []
for n in sorted(set(got) | set(want)):
    w = want.get(n, {'verdict': 'accept', 'alerts': []})
    g = got.get(n)
    if g is None:
        bad.append('frame %d: no verdict line' % n)
        continue
    ga = sorted(g.get('alerts', []))
    if g['verdict'] != w['verdict'] or ga != w['alerts'] or \
       ('by' in w and g['by'] != w['by']) or ('rule' in w and g.get('rule') != w['rule']):
        bad.append('frame %d: want %s%s%s alerts=%s, got %s/%s%s alerts=%s' % (
            n, w['verdict'], '/' + w['by'] if 'by' in w else '',
            ' rule %d' % w['rule'] if 'rule' in w else '', w['alerts'],
            g['verdict'], g['by'], ' rule %s' % g['rule'] if 'rule' in g else '', ga))
if bad:
    print('; '.join(bad[:4]) + (' (+%d more)' % (len(bad) - 4) if len(bad) > 4 else ''))
