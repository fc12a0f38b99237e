#!/bin/bash
# systemd-ns.sh - the installed lifelined.service under a real systemd: PID 1
# of its own pid, mount, network, uts, ipc and cgroup namespaces, with the
# root file system read-only and scratch tmpfs for /run, /var/lib, /var/log,
# /etc/systemd/system and /opt (nothing on the host changes; the engine's
# hooks go into the namespace's network stack). Checks Type=notify
# readiness, the sandbox the engine really runs in, reload, ExecStopPost
# after a crash with fail-open yes and no, a clean stop, and that an idle
# engine keeps the watchdog fed.
# Opt-in (tests/man/run.sh runs it with LL_SYSTEMD_NS=1): needs root, a
# host that is not itself run by systemd (use systemd-nspawn there), and
# writable cgroup file systems. Prints "ok NAME" / "not ok NAME - why".
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
ROOT=$PWD
W=$(mktemp -d /tmp/llsdns.XXXXXX)
CGS=""
SPID=""

cleanup() {
	[ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null # the namespace's init: all die
	wait 2>/dev/null
	sleep 0.5
	for c in $CGS; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT

ok() { echo "ok $1"; }
nok() { echo "not ok $1 - $2"; }
skip() { echo "ok $1 # SKIP $2"; }

[ "$(id -u)" = 0 ] || { skip unit-namespace "needs root"; exit 0; }
[ -d /run/systemd/system ] && { skip unit-namespace "the host runs systemd: use systemd-nspawn"; exit 0; }
for c in unshare nsenter /lib/systemd/systemd; do
	command -v "$c" >/dev/null || { skip unit-namespace "$c missing"; exit 0; }
done
# build now: inside, the tree is read-only and `make install` must find it done
make -s --no-print-directory B="$B" all >"$W/build.log" 2>&1 ||
	{ nok unit-namespace "make B=$B all: $(tail -c 300 "$W/build.log")"; exit 0; }

# a cgroup of our own on every hierarchy systemd uses, entered before unshare
case "$(stat -fc %T /sys/fs/cgroup)" in
cgroup2fs) CGS="/sys/fs/cgroup/llsdns-$$"; V2=1 ;;
*) CGS="/sys/fs/cgroup/unified/llsdns-$$ /sys/fs/cgroup/systemd/llsdns-$$"; V2=0 ;;
esac
for c in $CGS; do mkdir "$c" 2>/dev/null || { skip unit-namespace "cannot create $c"; exit 0; }; done

cat >"$W/inner.sh" <<'EOF'
#!/bin/bash
set -e
R=$1 B=$2 V2=$3
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
if [ "$V2" = 1 ]; then
	umount /sys/fs/cgroup
	mount -t cgroup2 -o nsdelegate none /sys/fs/cgroup
else
	mkdir /sys/fs/cgroup/unified /sys/fs/cgroup/systemd
	mount -t cgroup2 -o nsdelegate none /sys/fs/cgroup/unified
	mount -t cgroup -o none,name=systemd none /sys/fs/cgroup/systemd
	mount -o remount,bind,ro /sys/fs/cgroup
fi
# the tree may live under a directory the tmpfs below hides (a clone in /tmp):
# keep it open and reach it through the descriptor
exec 9<"$R"
for d in /run /tmp /var/tmp /var/lib /var/log /etc/systemd/system /opt; do
	mount -t tmpfs -o mode=755 tmpfs $d
done
mount -o remount,bind,ro /
# the group exists here only, so the control socket's chown is exercised
cp /etc/group /run/group
echo "lifeline:x:990:" >>/run/group
mount --bind /run/group /etc/group
mkdir -p /var/lib/systemd
cd /proc/self/fd/9
make -s --no-print-directory B="$B" install PREFIX=/opt/lifeline SYSCONFDIR=/opt/lifeline/etc \
	>/run/install.log 2>&1 || { cat /run/install.log; exit 1; }
cp /opt/lifeline/lib/systemd/system/lifelined.service /etc/systemd/system/
mkdir -p /etc/systemd/system/lifelined.service.d
# test only: no boot ordering (nothing of sysinit runs here), output to a file
cat >/etc/systemd/system/lifelined.service.d/test.conf <<'EOT'
[Unit]
DefaultDependencies=no
[Service]
StandardOutput=append:/run/lifelined.out
StandardError=inherit
Restart=no
EOT
printf '[Unit]\nDescription=lifeline test target\n' >/etc/systemd/system/lltest.target
for m in sysinit.target basic.target local-fs.target swap.target network-pre.target \
	systemd-journald.service systemd-journald.socket systemd-udevd.service getty.target \
	systemd-networkd.service systemd-resolved.service systemd-timesyncd.service \
	systemd-logind.service dbus.service dbus.socket cron.service ssh.service; do
	ln -sf /dev/null /etc/systemd/system/$m
done
ip link set lo up
export container=lifeline-test
exec /lib/systemd/systemd --system --unit=lltest.target --log-target=console --log-level=notice
EOF
(
	for c in $CGS; do echo "$BASHPID" >"$c/cgroup.procs"; done
	exec unshare --fork --pid --mount --net --uts --ipc --cgroup --mount-proc \
		bash "$W/inner.sh" "$ROOT" "$B" "$V2"
) >"$W/console.log" 2>&1 &
UPID=$!
state=""
for _ in $(seq 100); do
	SPID=$(pgrep -P "$UPID" -x systemd)
	[ -n "$SPID" ] && state=$(nsenter -t "$SPID" -a systemctl show -p SystemState --value 2>/dev/null)
	case "$state" in running | degraded) break ;; esac
	sleep 0.2
done
if [ -z "$SPID" ] || ! [[ "$state" =~ ^(running|degraded)$ ]]; then
	nok unit-namespace "systemd did not start: $(tail -c 400 "$W/console.log" | tr '\n' '|')"
	exit 0
fi
E="nsenter -t $SPID -a"
CONF=/opt/lifeline/etc/lifeline/lifeline.conf
mainpid() { $E systemctl show lifelined -p MainPID --value; }
queued() { # the number of queue rules in the namespace, whichever backend
	{ $E iptables-save 2>/dev/null; $E ip6tables-save 2>/dev/null; $E nft list ruleset 2>/dev/null; } |
		grep -ciE -- '-j NFQUEUE|queue (num|to|flags)'
}
lifeline_rules() { { $E iptables-save 2>/dev/null; $E nft list ruleset 2>/dev/null; } | grep -ci lifeline; }
restart_clean() { $E systemctl stop lifelined 2>/dev/null; $E systemctl reset-failed lifelined 2>/dev/null; }

# readiness: `systemctl start` returns once READY=1 came, hooks in place
if $E timeout 30 systemctl start lifelined 2>"$W/err" && [ "$($E systemctl is-active lifelined)" = active ] &&
	[ "$(queued)" -gt 0 ]; then
	ok unit-ns-ready
else
	nok unit-ns-ready "$(head -c 200 "$W/err") $($E tail -3 /run/lifelined.out | tr '\n' '|')"
fi

# the sandbox the engine really runs in
P=$(mainpid)
st=$($E cat /proc/"$P"/status 2>/dev/null)
bnd=$(printf '%s\n' "$st" | sed -n 's/^CapBnd:[[:space:]]*//p')
nnp=$(printf '%s\n' "$st" | sed -n 's/^NoNewPrivs:[[:space:]]*//p')
sec=$(printf '%s\n' "$st" | sed -n 's/^Seccomp:[[:space:]]*//p')
rootro=$($E awk '$5 == "/" { print $6 }' /proc/"$P"/mountinfo | cut -d, -f1)
rw=$($E awk '$5 ~ /^\/(var\/lib|run|var\/log)\/lifeline$/ { split($6, o, ","); print o[1] }' \
	/proc/"$P"/mountinfo | sort -u | tr '\n' ' ')
# CAP_CHOWN (0), CAP_NET_ADMIN (12), CAP_NET_RAW (13)
if [ "$bnd" = 0000000000003001 ] && [ "$nnp" = 1 ] && [ "$sec" = 2 ] && [ "$rootro" = ro ] &&
	[ "$rw" = "rw " ]; then
	ok unit-ns-sandbox
else
	nok unit-ns-sandbox "CapBnd=$bnd NoNewPrivs=$nnp Seccomp=$sec /=$rootro state/run/log=$rw"
fi

if $E systemctl reload lifelined && sleep 1 && $E grep -q 'reload: .* applied' /run/lifelined.out; then
	ok unit-ns-reload
else
	nok unit-ns-reload "no 'reload: ... applied' after systemctl reload"
fi

# a crash with fail-open yes (the default): ExecStopPost removes the queue
$E systemctl kill -s KILL lifelined
sleep 2
n=$(queued)
[ "$n" = 0 ] && ok unit-ns-crash-fail-open ||
	nok unit-ns-crash-fail-open "$n queue rule(s) left after a crash with fail-open yes"
restart_clean

# a crash with fail-open no: the queue stays (fail-closed, as configured)
$E sh -c "echo 'fail-open no' >>$CONF"
$E timeout 30 systemctl start lifelined
$E systemctl kill -s KILL lifelined
sleep 2
n=$(queued)
[ "$n" -gt 0 ] && ok unit-ns-crash-fail-closed ||
	nok unit-ns-crash-fail-closed "the queue rules went away with fail-open no"
restart_clean
$E /opt/lifeline/sbin/lifelinectl -c "$CONF" reset --hooks-only >/dev/null
$E sed -i '/^fail-open no$/d' "$CONF"

# a clean stop with fail-open yes: nothing of ours is left
$E timeout 30 systemctl start lifelined
$E systemctl stop lifelined
n=$(lifeline_rules)
[ "$n" = 0 ] && ok unit-ns-clean-stop || nok unit-ns-clean-stop "$n lifeline rule line(s) left"
restart_clean

# the watchdog: an idle engine (no packets at all here) must keep it fed
$E sh -c 'printf "[Service]\nWatchdogSec=3s\n" >/etc/systemd/system/lifelined.service.d/wd.conf
	systemctl daemon-reload'
$E timeout 30 systemctl start lifelined
sleep 10
res=$($E systemctl show lifelined -p Result --value)
act=$($E systemctl is-active lifelined)
if [ "$act" = active ]; then
	ok unit-ns-watchdog
else
	nok unit-ns-watchdog "WatchdogSec=3s: engine $act, Result=$res (WATCHDOG=1 pings missing?)"
fi
restart_clean
exit 0
