#!/usr/bin/env python3
"""gen_ips_rules.py - IPS benchmark inputs: rule sets built from realistic
HTTP / DNS / TLS literals, and a capture of HTTP, DNS and TLS flows whose
payloads use the same vocabulary (so some rules really match, as on a real
network).

    gen_ips_rules.py rules N SEED OUT.rules     N content rules (0: none)
    gen_ips_rules.py pcap PACKETS SEED OUT.pcap flows of ~20 packets (DNS: 2)

Rules: ~55% HTTP (URIs, user agents, header names, methods), 20% DNS
(label-encoded query names), 15% TLS (SNI host names), 10% generic TCP
payload literals; modifiers mixed as in ET Open: nocase, depth/offset,
distance/within chains, negated contents, ~3% pcre, flow:to_server or
to_client, established. Deterministic for a given SEED.
Addresses: clients 198.51.100.0/24 ($HOME_NET), servers 192.0.2.0/24 and
203.0.113.0/24 (documentation ranges)."""
import random, struct, sys

WORDS = ('admin login user account config setup install update upload download '
         'backup shell cmd exec system api v1 v2 auth token session cart checkout '
         'search query report export import image media static assets js css '
         'plugin theme module component include lib vendor tmp cache data db '
         'sql dump panel dashboard manager console debug test dev staging portal '
         'wp xmlrpc phpmyadmin cgi bin jenkins struts solr tomcat owa ecp mail '
         'invoice payment order product catalog news blog feed rss sitemap '
         'profile settings password reset register signup logout oauth sso').split()
EXTS = 'php asp aspx jsp cgi pl html htm js json xml txt bak zip gz sql ini conf'.split()
TLDS = 'com net org info biz ru cn io top xyz online site club co uk de'.split()
BOTS = ('Mozilla curl Wget python-requests Go-http-client Java okhttp libwww-perl '
        'sqlmap Nikto masscan zgrab Nmap WinHttp BITSAdmin PowerShell MSIE '
        'Opera Chrome Safari Firefox Edge Dalvik CFNetwork Apache-HttpClient').split()
HEADERS = ('X-Forwarded-For X-Requested-With X-Api-Key X-Auth-Token X-Csrf-Token '
           'X-Real-IP X-Originating-IP X-Remote-Addr X-Client-IP Authorization '
           'Cookie Referer Origin Accept-Language Accept-Encoding Content-Type '
           'Content-Disposition Transfer-Encoding Proxy-Authorization Upgrade '
           'X-Powered-By Server Set-Cookie Location WWW-Authenticate').split()
METHODS = 'GET POST PUT DELETE HEAD OPTIONS PATCH PROPFIND'.split()


def esc(b):
    """A literal as rule content: printable bytes as is, the rest as |hex|."""
    out, hexrun = [], []
    for c in b:
        if 32 <= c < 127 and chr(c) not in '";\\|:':
            if hexrun:
                out.append('|' + ' '.join('%02x' % h for h in hexrun) + '|')
                hexrun = []
            out.append(chr(c))
        else:
            hexrun.append(c)
    if hexrun:
        out.append('|' + ' '.join('%02x' % h for h in hexrun) + '|')
    return ''.join(out)


def uri(r):
    n = r.randint(1, 3)
    return '/' + '/'.join(r.choice(WORDS) for _ in range(n)) + r.choice(['', '.' + r.choice(EXTS)])


def domain(r):
    return '%s%s%d.%s' % (r.choice(WORDS), r.choice(WORDS), r.randint(0, 999), r.choice(TLDS))


def ua(r):
    return '%s/%d.%d' % (r.choice(BOTS), r.randint(1, 9), r.randint(0, 40))


def dns_name(name):
    return b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\0'


HTTP_HDR = '$HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS'


def http_rule(r):
    k = r.random()
    if k < 0.35:  # a URI, often with a parameter chain
        u = uri(r)
        opts = ['flow:established,to_server', 'content:"%s"' % esc(u.encode())]
        if r.random() < 0.3:
            opts.append('nocase')
        if r.random() < 0.4:
            opts += ['content:"%s="' % r.choice(WORDS), 'distance:0', 'within:%d' % r.randint(20, 200)]
        if r.random() < 0.2:
            opts.insert(1, 'content:"%s "' % r.choice(METHODS))
            opts.insert(2, 'depth:%d' % (len(opts[1]) - 10))
        return opts
    if k < 0.55:  # a user agent
        return ['flow:established,to_server', 'content:"User-Agent|3a| %s"' % esc(ua(r).encode())] + \
               (['nocase'] if r.random() < 0.5 else [])
    if k < 0.7:  # a header with a value
        h = r.choice(HEADERS)
        v = r.choice(WORDS + BOTS)
        return ['flow:established,to_server', 'content:"%s|3a| "' % h, 'nocase',
                'content:"%s"' % v, 'distance:0', 'within:%d' % (len(v) + r.randint(0, 48))]
    if k < 0.8:  # method + path at the start
        m = r.choice(METHODS)
        return ['flow:established,to_server', 'content:"%s %s"' % (m, esc(uri(r).encode())),
                'depth:%d' % r.randint(40, 120)]
    if k < 0.9:  # server response
        return ['flow:established,to_client', 'content:"HTTP/1.1 %d"' % r.choice([200, 302, 403, 404, 500]),
                'depth:12', 'content:"%s"' % esc(r.choice(['Server: ', 'X-Powered-By: ', 'Set-Cookie: '])
                                                    .encode() + r.choice(WORDS + BOTS).encode()),
                'distance:0', 'nocase']
    # a negated content: method without an expected header
    return ['flow:established,to_server', 'content:"%s"' % esc(uri(r).encode()), 'nocase',
            'content:!"Referer|3a|"']


def dns_rule(r):
    name = 'content:"%s"' % esc(dns_name(domain(r)))
    if r.random() < 0.15:  # a standard query header, then the name
        return ['content:"|01 00 00 01|"', 'offset:2', 'depth:4', name, 'distance:6', 'within:64', 'nocase']
    return [name, 'nocase']


def tls_rule(r):
    opts = ['flow:established,to_server', 'content:"|16 03|"', 'depth:2',
            'content:"%s"' % esc(domain(r).encode()), 'distance:0']
    if r.random() < 0.3:
        opts.append('nocase')
    return opts


def tcp_rule(r):
    lit = r.choice(['cmd.exe /c ', 'powershell -enc ', '/bin/sh -c ', 'wget http://',
                    'chmod 777 ', 'base64 -d', 'eval(', 'union select ', '<script>',
                    'document.cookie', '../../../', '%2e%2e%2f', 'xp_cmdshell', 'etc/shadow'])
    return ['flow:established', 'content:"%s%s"' % (esc(lit.encode()), r.choice(WORDS)), 'nocase']


def pcre_rule(r):
    w = r.choice(WORDS)
    return ['flow:established,to_server', 'content:"/%s/"' % w,
            'pcre:"/\\/%s\\/[a-z0-9_]{2,16}\\.(php|asp|jsp)\\?[a-z]+=[0-9]{%d,}/i"' % (w, r.randint(3, 8))]


def rules(n, seed, out):
    r = random.Random(seed)
    with open(out, 'w') as f:
        f.write('# generated by bench/gen_ips_rules.py rules %d %d\n' % (n, seed))
        f.write('define HOME_NET = { 198.51.100.0/24 }\n')
        for i in range(n):
            k = r.random()
            if k < 0.03:
                hdr, opts = HTTP_HDR, pcre_rule(r)
            elif k < 0.55:
                hdr, opts = HTTP_HDR, http_rule(r)
                if 'to_client' in opts[0]:
                    hdr = '$EXTERNAL_NET $HTTP_PORTS -> $HOME_NET any'
            elif k < 0.75:
                hdr, opts = 'udp $HOME_NET any -> any 53', dns_rule(r)
            elif k < 0.9:
                hdr, opts = '$HOME_NET any -> $EXTERNAL_NET 443', tls_rule(r)
            else:
                hdr, opts = '$EXTERNAL_NET any -> $HOME_NET any', tcp_rule(r)
            if not hdr.startswith('udp'):
                hdr = 'tcp ' + hdr
            sid = 3000000 + i
            f.write('alert %s (msg:"bench %d"; %s; classtype:trojan-activity; sid:%d; rev:1;)\n'
                    % (hdr, i, '; '.join(opts), sid))


# ---- the capture ------------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def ip4(src, dst, proto, l4):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, src, dst)
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + l4


ETH = b'\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00'


class Writer:
    def __init__(self, path):
        self.f = open(path, 'wb')
        self.f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.n, self.t = 0, 1_700_000_000_000_000

    def put(self, frame):
        self.t += 37
        self.f.write(struct.pack('<IIII', self.t // 1000000, self.t % 1000000, len(frame), len(frame)))
        self.f.write(frame)
        self.n += 1


def tcp_flow(w, r, cli, srv, sport, dport, c2s, s2c):
    """Handshake, client data, server data in MSS segments with ACKs, FINs."""
    cs, ss = r.getrandbits(32), r.getrandbits(32)

    def seg(fromcli, flags, data=b''):
        nonlocal cs, ss
        if fromcli:
            th = struct.pack('!HHIIBBHHH', sport, dport, cs, ss, 0x50, flags, 64240, 0, 0)
            w.put(ETH + ip4(cli, srv, 6, th + data))
            cs = (cs + len(data) + (1 if flags & 3 else 0)) & 0xffffffff
        else:
            th = struct.pack('!HHIIBBHHH', dport, sport, ss, cs, 0x50, flags, 65160, 0, 0)
            w.put(ETH + ip4(srv, cli, 6, th + data))
            ss = (ss + len(data) + (1 if flags & 3 else 0)) & 0xffffffff
    seg(True, 0x02)
    seg(False, 0x12)
    seg(True, 0x10)
    for d in c2s:
        seg(True, 0x18, d)
    seg(False, 0x10)
    for i, d in enumerate(s2c):
        seg(False, 0x18 if i == len(s2c) - 1 else 0x10, d)
        if i % 2:
            seg(True, 0x10)
    seg(False, 0x11)
    seg(True, 0x11)
    seg(False, 0x10)


PROSE = ('the of and to in is that for it as was with be by on not he this are or his from at '
         'which but have an they you were their one all we can her has there been if more when '
         'will would who so no time people year way day man thing woman life child world school '
         'state family student group country problem hand part place case week company system '
         'program question work government number night point home water room mother area money '
         'story fact month lot right study book eye job word business issue side kind head house '
         'service friend father power hour game line end member law car city community name').split()
TAGS = ['<p>', '</p>', '<div class="content">', '</div>', '<span>', '</span>', '<li>', '</li>',
        '<h2>', '</h2>', '<br>', '<em>', '</em>']


def html(r, n):
    """Page text: English prose in tags, with now and then a link whose path
    uses the rules' vocabulary (so body literals are seen, but not everywhere)."""
    words, size = [], 0
    while size < n:
        k = r.random()
        w = (r.choice(TAGS) if k < 0.08 else
             '<a href="%s">' % uri(r) if k < 0.1 else r.choice(PROSE))
        words.append(w)
        size += len(w) + 1
    return ' '.join(words).encode()[:n]


def http_flow(w, r, cli, srv, sport):
    req = ('%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n'
           'Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n%s'
           'Connection: keep-alive\r\n\r\n') % (
        r.choice(['GET'] * 8 + ['POST', 'HEAD']), uri(r),
        r.choice(['', '?%s=%d' % (r.choice(WORDS), r.randint(0, 99999))]), domain(r),
        r.choice(['Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0',
                  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36',
                  ua(r)]),
        r.choice(['', 'Referer: http://%s/\r\n' % domain(r), 'Cookie: session=%x\r\n' % r.getrandbits(64)]))
    body = html(r, r.randint(6, 10) * 1400)
    hdr = ('HTTP/1.1 %s\r\nServer: %s\r\nContent-Type: text/html; charset=utf-8\r\n'
           'Content-Length: %d\r\nCache-Control: max-age=600\r\n\r\n') % (
        r.choice(['200 OK'] * 6 + ['404 Not Found', '302 Found']), r.choice(['nginx/1.24.0', 'Apache/2.4.57', 'cloudflare']),
        len(body))
    data = hdr.encode() + body
    segs = [data[i:i + 1400] for i in range(0, len(data), 1400)]
    tcp_flow(w, r, cli, srv, sport, 80, [req.encode()], segs)


def tls_flow(w, r, cli, srv, sport):
    sni = domain(r).encode()
    ext = struct.pack('!HHHBH', 0, len(sni) + 5, len(sni) + 3, 0, len(sni)) + sni
    hello = b'\x03\x03' + r.randbytes(32) + b'\x20' + r.randbytes(32) + b'\x00\x08\x13\x01\x13\x02\x13\x03\xc0\x2b\x01\x00' + \
        struct.pack('!H', len(ext)) + ext
    hs = b'\x01' + struct.pack('!I', len(hello))[1:] + hello
    ch = b'\x16\x03\x01' + struct.pack('!H', len(hs)) + hs
    segs = [b'\x16\x03\x03' + r.randbytes(1397)] + [b'\x17\x03\x03' + r.randbytes(1397) for _ in range(r.randint(5, 8))]
    tcp_flow(w, r, cli, srv, sport, 443, [ch, b'\x17\x03\x03' + r.randbytes(80)], segs)


def dns_pair(w, r, cli, srv, sport):
    q = struct.pack('!HHHHHH', r.getrandbits(16), 0x0100, 1, 0, 0, 0) + dns_name(domain(r)) + b'\x00\x01\x00\x01'
    a = q[:2] + b'\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00' + q[12:] + b'\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04' + r.randbytes(4)
    w.put(ETH + ip4(cli, srv, 17, struct.pack('!HHHH', sport, 53, 8 + len(q), 0) + q))
    w.put(ETH + ip4(srv, cli, 17, struct.pack('!HHHH', 53, sport, 8 + len(a), 0) + a))


def pcap(packets, seed, out):
    r = random.Random(seed)
    w = Writer(out)
    sport = 10000
    while w.n < packets:
        cli = bytes([198, 51, 100, r.randint(2, 254)])
        srv = bytes([192, 0, 2, r.randint(1, 254)]) if r.random() < 0.5 else bytes([203, 0, 113, r.randint(1, 254)])
        sport = sport + 1 if sport < 65000 else 10000
        k = r.random()
        if k < 0.65:
            http_flow(w, r, cli, srv, sport)
        elif k < 0.85:
            tls_flow(w, r, cli, srv, sport)
        else:
            for _ in range(3):
                dns_pair(w, r, cli, srv, sport)
                sport += 1
    w.f.close()


if __name__ == '__main__':
    if len(sys.argv) != 5 or sys.argv[1] not in ('rules', 'pcap'):
        sys.exit(__doc__)
    (rules if sys.argv[1] == 'rules' else pcap)(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
