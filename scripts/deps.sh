#!/bin/sh
# deps.sh - install what lifeline needs on Debian 12, quickly when all is there.
set -e
PKGS_PC="libnetfilter_queue:libnetfilter-queue-dev libmnl:libmnl-dev libpcap:libpcap-dev
libcrypto:libssl-dev cmocka:libcmocka-dev libhs:libvectorscan-dev libpcre2-8:libpcre2-dev
zlib:zlib1g-dev"
CMDS="pkg-config:pkg-config iptables:iptables ipset:ipset nft:nftables ip:iproute2
dnsmasq:dnsmasq dhclient:isc-dhcp-client openssl:openssl tcpdump:tcpdump
conntrack:conntrack clang:clang python3:python3 ping:iputils-ping dig:dnsutils
ncat:ncat sudo:sudo tshark:tshark iperf3:iperf3
valgrind:valgrind groff:groff-base ethtool:ethtool"
missing=""
command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"
for e in $PKGS_PC; do
	pc=${e%%:*}; deb=${e#*:}
	pkg-config --exists "$pc" 2>/dev/null || missing="$missing $deb"
done
for e in $CMDS; do
	c=${e%%:*}; deb=${e#*:}
	command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || [ -x "/sbin/$c" ] || missing="$missing $deb"
done
# libFuzzer/ASan runtimes for `make fuzz` / SAN=1 with clang
[ -n "$(ls /usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] ||
	missing="$missing libclang-rt-14-dev"
if [ -z "$missing" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
