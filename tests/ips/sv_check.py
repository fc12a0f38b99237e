#!/usr/bin/env python3
"""sv_check.py DIR VERDICTS STDERR - compare lifelined's verdict lines with a
suricata-verify test's expectations (alert and drop counts by sid, pcap_cnt).
Prints nothing when they agree, else one line saying what differs. A filter's packet
fields (proto, addresses, ports, ICMP type and code) are compared with the
verdict line's; event types lifeline does not produce (flow, dns, tls, stats),
and filters on fields of those records, are not checked."""
import ipaddress, json, re, sys

tdir, vpath, epath = sys.argv[1:4]
verdicts = []
try:
    with open(vpath) as f:
        verdicts = [json.loads(l) for l in f if l.strip()]
except FileNotFoundError:
    pass
stderr = open(epath).read()

# EVE field -> verdict line field
PACKET_FIELDS = {'proto': 'proto', 'src_ip': 'src', 'dest_ip': 'dst', 'src_port': 'sport',
                 'dest_port': 'dport', 'icmp_type': 'type', 'icmp_code': 'code'}

# protocol numbers by EVE's name and by the verdict line's (which names only these four)
EVE_PROTO = {'tcp': 6, 'udp': 17, 'icmp': 1, 'ipv6-icmp': 58, 'gre': 47, 'esp': 50, 'ah': 51,
             'sctp': 132, 'ipv6': 41, 'igmp': 2}
VERDICT_PROTO = {'tcp': 6, 'udp': 17, 'icmp': 1, 'icmp6': 58}

def checkable(eve, want):
    return eve != 'proto' or str(want).lower() in EVE_PROTO

def same(eve, want, got):
    if got is None:
        return False
    if eve == 'proto':
        return EVE_PROTO[str(want).lower()] == VERDICT_PROTO.get(str(got), got)
    if eve in ('src_ip', 'dest_ip'):
        return ipaddress.ip_address(want) == ipaddress.ip_address(got)
    return want == got

def count(kind, sid, match):
    n = 0
    for v in verdicts:
        if 'pcap_cnt' in match and v['n'] != match['pcap_cnt']:
            continue
        if not all(same(k, match[k], v.get(PACKET_FIELDS[k])) for k in match if k in PACKET_FIELDS):
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
    extra = set(match) - {'alert.signature_id', 'pcap_cnt'} - set(PACKET_FIELDS)
    if extra or not all(checkable(k, v) for k, v in match.items()):
        continue  # fields of Suricata's own records (flow.*, app_proto, ...), a protocol not named here
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
