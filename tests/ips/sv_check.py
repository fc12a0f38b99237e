#!/usr/bin/env python3
"""sv_check.py DIR VERDICTS STDERR - compare lifelined's verdict lines with a
suricata-verify test's expectations (alert and drop counts by sid, pcap_cnt).
Prints nothing when they agree, else one line saying what differs. Event types
lifeline does not produce (flow, dns, tls, stats) are not checked."""
import json, re, sys

tdir, vpath, epath = sys.argv[1:4]
verdicts = []
try:
    with open(vpath) as f:
        verdicts = [json.loads(l) for l in f if l.strip()]
except FileNotFoundError:
    pass
stderr = open(epath).read()

def count(kind, sid, match):
    n = 0
    for v in verdicts:
        if 'pcap_cnt' in match and v['n'] != match['pcap_cnt']:
            continue
        if kind == 'alert':
            n += sum(1 for a in v.get('alerts', []) if sid is None or a == sid)
        elif v['verdict'] == 'drop' and v['by'] in ('ips', 'flow') and \
                (sid is None or v.get('rule') == sid):
            n += 1
    return n

problems = []
seen = set()
for line in open(tdir + '/EXPECTED.md'):
    m = re.match(r'- count=(\d+) event_type=(\w+) sid=(\w+)(?: requires=\{.*?\})? match=(\{.*\})$', line.strip())
    if not m:
        continue
    want, kind, sid, match = int(m[1]), m[2], m[3], json.loads(m[4])
    sid = None if sid == 'None' else int(sid)
    if kind == 'None' and 'alert.signature_id' in match:
        kind = 'alert'
    if kind not in ('alert', 'drop') or 'has-key' in match:
        continue
    extra = set(match) - {'alert.signature_id', 'pcap_cnt'}
    if extra:
        continue  # fields of Suricata's own records (packet, icmp_type, ...)
    key = (kind, sid, json.dumps(match, sort_keys=True))
    if key in seen:
        continue
    seen.add(key)
    got = count(kind, sid, match)
    if got != want:
        problems.append(f'{kind} sid={sid} {match if match else ""}: want {want}, got {got}')

# "signature can't match" load errors, as Suricata logs them
for m in re.finditer(r'grep "signature can.t match" suricata.log.*?expect: (\d+)', open(tdir + '/test.yaml').read(), re.S):
    got = stderr.count("signature can't match")
    if got != int(m[1]):
        problems.append(f"load errors \"signature can't match\": want {m[1]}, got {got}")
print('; '.join(problems))
