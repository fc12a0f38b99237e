#!/bin/bash
# run.sh - the shipped pieces: man pages in sync with --help (every option,
# every command with its arguments, every config directive, every state
# file), pages that render without warnings, the systemd unit
# (systemd-analyze verify, its ExecStopPost fail-open logic), and
# `make install` / `make uninstall` with DESTDIR and PREFIX.
# Prints "ok NAME", "ok NAME # SKIP why" or "not ok NAME - why" per case.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
T=$(mktemp -d /tmp/llman.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok() { echo "ok $1"; }
nok() { echo "not ok $1 - $2"; }
skip() { echo "ok $1 # SKIP $2"; }

for f in "$B/lifelined" "$B/lifelinectl"; do
	[ -x "$f" ] || { nok setup "$f missing: make B=$B all"; exit 0; }
done
command -v groff >/dev/null || { nok setup "groff missing (apt-get install groff-base)"; exit 0; }

# render PAGE: plain text, wide lines (options never wrap), no overstrike
render() { groff -man -Tascii -rLL=250n -P-cbou "man/$1" 2>/dev/null; }
# opts: every -x / --long-option in stdin
opts() { grep -oE '(^|[][ |,(])-{1,2}[A-Za-z][-A-Za-z]*' | sed 's/^[][ |,(]*//' | sort -u; }
# has_word TEXTFILE WORD: WORD stands alone (not inside a longer option)
has_word() { grep -qE -- "(^|[^-A-Za-z0-9_])$(printf '%s' "$2" | sed 's/[.]/\\./g')([^-A-Za-z0-9_]|$)" "$1"; }

# --- every page renders, without a single groff warning, and with man(1)
for p in lifelined.8 lifelinectl.8 lifeline.conf.5 lifeline-policy.5; do
	if [ ! -f "man/$p" ]; then
		nok "render-$p" "man/$p missing"
		continue
	fi
	w=$(groff -man -Tutf8 -ww -z "man/$p" 2>&1)
	if [ -n "$w" ]; then
		nok "render-$p" "groff warnings: $(printf '%s' "$w" | head -3 | tr '\n' '|')"
	elif command -v man >/dev/null &&
		! MANWIDTH=80 man -l "man/$p" >"$T/man.out" 2>"$T/man.err"; then
		nok "render-$p" "man -l failed: $(head -c 300 "$T/man.err")"
	elif command -v man >/dev/null && [ -s "$T/man.err" ]; then
		nok "render-$p" "man -l complains: $(head -c 300 "$T/man.err" | tr '\n' '|')"
	else
		ok "render-$p"
	fi
done

# --- lifelined: every option of --help is in lifelined(8)
render lifelined.8 >"$T/lifelined.txt"
"$B/lifelined" --help >"$T/lifelined.help"
missing=""
for o in $(opts <"$T/lifelined.help"); do
	has_word "$T/lifelined.txt" "$o" || missing="$missing $o"
done
[ -z "$missing" ] && ok lifelined-options || nok lifelined-options "not in lifelined.8:$missing"

# --- lifelinectl: global options, then each command: its heading is
# "NAME ARGS" exactly as --help has them, and its options are in its entry
render lifelinectl.8 >"$T/ctl.txt"
"$B/lifelinectl" --help >"$T/ctl.help"
missing=""
for o in $(sed '/^commands:/,$d' "$T/ctl.help" | opts); do
	has_word "$T/ctl.txt" "$o" || missing="$missing $o"
done
[ -z "$missing" ] && ok lifelinectl-options || nok lifelinectl-options "not in lifelinectl.8:$missing"

sed -n '/^COMMANDS/,/^[A-Z]/p' "$T/ctl.txt" >"$T/ctl.cmds"
cmds=$(sed -n '/^commands:/,/^$/p' "$T/ctl.help" | awk 'NF && !/^commands:/ { print $1 }')
[ -n "$cmds" ] || nok lifelinectl-commands "no commands in lifelinectl --help"
for c in $cmds; do
	line=$(grep -E "^  $c( |$)" "$T/ctl.help" | head -1)
	rest=${line#  "$c"}
	case "$rest" in
	"  "* | "") args="" ;; # no arguments: two spaces, then the summary
	*) args=$(printf '%s' "${rest# }" | sed 's/  .*//; s/ *$//') ;;
	esac
	want="$c${args:+ $args}"
	# the command's entry: from its heading to the next command's heading
	awk -v c="$c" '
		/^       [a-z]/ { split($0, w, " "); inside = (w[1] == c) }
		inside' "$T/ctl.cmds" >"$T/entry"
	if [ ! -s "$T/entry" ]; then
		nok "lifelinectl-command-$c" "no entry for '$c' under COMMANDS"
		continue
	fi
	head=$(head -1 "$T/entry" | sed 's/^ *//')
	case "$head" in
	"$want" | "$want "*) ;;
	*)
		nok "lifelinectl-command-$c" "heading '$head' is not --help's '$want'"
		continue ;;
	esac
	missing=""
	for o in $(printf '%s\n' "$args" | opts); do
		has_word "$T/entry" "$o" || missing="$missing $o"
	done
	[ -z "$missing" ] && ok "lifelinectl-command-$c" ||
		nok "lifelinectl-command-$c" "options not in its entry:$missing"
done
# and no command in the page that --help does not know
extra=""
for c in $(awk '/^       [a-z]/ { print $1 }' "$T/ctl.cmds" | sort -u); do
	printf '%s\n' $cmds | grep -qx "$c" || extra="$extra $c"
done
[ -z "$extra" ] && ok lifelinectl-no-stale-commands ||
	nok lifelinectl-no-stale-commands "in lifelinectl.8, not in --help:$extra"

# --- lifeline.conf(5): every directive filter/config.c accepts
render lifeline.conf.5 >"$T/conf.txt"
dirs=$(sed -n '/^static const struct directive directives\[\]/,/^};/p' filter/config.c |
	grep -oE '^[[:space:]]*[A-Z]+\("[a-z-]+"' | sed 's/.*"\(.*\)"/\1/')
missing=""
for d in $dirs; do
	grep -qE "^ {7}$d( |$)" "$T/conf.txt" || missing="$missing $d"
done
if [ -z "$dirs" ]; then
	nok conf-directives "no directive table found in filter/config.c"
elif [ -n "$missing" ]; then
	nok conf-directives "no entry in lifeline.conf.5:$missing"
else
	ok conf-directives
fi
# the shipped config parses, and means "all defaults" as shipped
if LIFELINE_HOOKS_BACKEND=nft "$B/lifelined" --print-hooks -c dist/lifeline.conf >"$T/h1" 2>"$T/err" &&
	LIFELINE_HOOKS_BACKEND=nft "$B/lifelined" --print-hooks -c /dev/null >"$T/h2" 2>&1 &&
	cmp -s "$T/h1" "$T/h2"; then
	ok dist-config
else
	nok dist-config "dist/lifeline.conf: $(head -c 300 "$T/err") (or not all defaults)"
fi
# every directive of the shipped config is one the engine knows (uncommented)
sed -E 's/^#([a-z])/\1/' dist/lifeline.conf | grep -E '^[a-z]' >"$T/all.conf"
if "$B/lifelined" --print-hooks -c "$T/all.conf" >/dev/null 2>"$T/err"; then
	ok dist-config-uncommented
else
	nok dist-config-uncommented "$(head -c 300 "$T/err" | tr '\n' '|')"
fi
if "$B/lifelinectl" check dist/example.pol >"$T/out" 2>&1; then
	ok dist-example-policy
else
	nok dist-example-policy "$(head -c 300 "$T/out" | tr '\n' '|')"
fi

# --- lifelined(8) FILES: every state file of include/state.h
files=$(grep -oE '^#define STATE_[A-Z_]+_FILE "[^"]+"' include/state.h | sed 's/.*"\(.*\)"/\1/')
missing=""
for f in $files current.pol.sig; do
	has_word "$T/lifelined.txt" "$f" || missing="$missing $f"
done
[ -n "$files" ] && [ -z "$missing" ] && ok state-files ||
	nok state-files "not in lifelined.8 FILES:${missing:- (no STATE_*_FILE in state.h)}"

# --- lifeline-policy(5): every action, direction, protocol keyword
render lifeline-policy.5 >"$T/pol.txt"
missing=""
for w in allow deny force-allow bypass log-only priority in out any tcp udp tcp-udp icmp icmp6 \
	proto on from to port type code flags id msg nolog define include serial alert drop \
	reject pass not-allowed default; do
	has_word "$T/pol.txt" "$w" || missing="$missing $w"
done
[ -z "$missing" ] && ok policy-keywords || nok policy-keywords "not in lifeline-policy.5:$missing"
# its examples are valid policies that print as the page says
sed -n '/^A web server/,/^\.EE/p' man/lifeline-policy.5 | sed -n '/^\.EX/,/^\.EE/p' |
	sed '1d;$d' | sed 's/\\-/-/g' >"$T/ex.pol"
sed -n '/check \\-\\-print\\fR of the first/,$p' man/lifeline-policy.5 |
	sed -n '/^\.EX/,/^\.EE/p' | sed '1d;$d' | sed 's/\\-/-/g; /^\.EE/,$d' >"$T/ex.ok"
if "$B/lifelinectl" check --print "$T/ex.pol" >"$T/ex.out" 2>&1 && diff -u "$T/ex.ok" "$T/ex.out" >"$T/d"; then
	ok policy-example
else
	nok policy-example "$(head -c 400 "$T/d" "$T/ex.out" | tr '\n' '|')"
fi

# --- make install DESTDIR=...: every file, nothing outside DESTDIR, and uninstall
D=$T/destdir
mkdir -p "$D"
expect="usr/local/sbin/lifelined usr/local/sbin/lifelinectl
usr/local/share/man/man8/lifelined.8 usr/local/share/man/man8/lifelinectl.8
usr/local/share/man/man5/lifeline.conf.5 usr/local/share/man/man5/lifeline-policy.5
usr/local/share/doc/lifeline/examples/lifeline.conf usr/local/share/doc/lifeline/examples/example.pol
usr/local/lib/systemd/system/lifelined.service usr/local/lib/sysusers.d/lifeline.conf
etc/lifeline/lifeline.conf etc/logrotate.d/lifeline"
if ! make -s --no-print-directory B="$B" install DESTDIR="$D" >"$T/inst.out" 2>&1; then
	nok install "make install failed: $(tail -c 400 "$T/inst.out" | tr '\n' '|')"
else
	missing=""
	for f in $expect; do [ -f "$D/$f" ] || missing="$missing $f"; done
	extra=$( (cd "$D" && find . -type f | sed 's|^\./||' | sort) |
		grep -vxF -f <(printf '%s\n' $expect) | tr '\n' ' ')
	if [ -n "$missing$extra" ]; then
		nok install "missing:${missing:- none}; unexpected: ${extra:-none}"
	elif [ "$(stat -c %a "$D/usr/local/sbin/lifelined")" != 755 ] ||
		[ "$(stat -c %a "$D/usr/local/lib/systemd/system/lifelined.service")" != 644 ]; then
		nok install "modes: binaries 0755, unit 0644 expected"
	elif grep -qE '@[A-Z]+@' "$D/usr/local/lib/systemd/system/lifelined.service" ||
		! grep -q '^ExecStart=/usr/local/sbin/lifelined -f -c /etc/lifeline/lifeline.conf$' \
			"$D/usr/local/lib/systemd/system/lifelined.service"; then
		nok install "unit paths not substituted"
	else
		ok install
	fi
	# a second install keeps an edited config
	echo "manager 192.0.2.1" >>"$D/etc/lifeline/lifeline.conf"
	make -s --no-print-directory B="$B" install DESTDIR="$D" >/dev/null 2>&1
	grep -q '^manager 192.0.2.1' "$D/etc/lifeline/lifeline.conf" && ok install-keeps-config ||
		nok install-keeps-config "make install overwrote an edited lifeline.conf"
	make -s --no-print-directory B="$B" uninstall DESTDIR="$D" >"$T/un.out" 2>&1
	left=$( (cd "$D" && find . -type f | sed 's|^\./||') | tr '\n' ' ')
	if [ "$left" = "etc/lifeline/lifeline.conf " ]; then
		ok uninstall-keeps-edited-config
	else
		nok uninstall-keeps-edited-config "left after uninstall: ${left:-nothing}"
	fi
	make -s --no-print-directory B="$B" install DESTDIR="$T/d2" >/dev/null 2>&1
	make -s --no-print-directory B="$B" uninstall DESTDIR="$T/d2" >"$T/un.out" 2>&1
	left=$( (cd "$T/d2" && find . -type f -o -type l) | tr '\n' ' ')
	[ -z "$left" ] && ok uninstall || nok uninstall "left after uninstall: $left"
fi

# --- the unit: installed under a PREFIX of its own so its paths are real
P=$T/prefix
if ! make -s --no-print-directory B="$B" install PREFIX="$P" SYSCONFDIR="$P/etc" \
	>"$T/inst.out" 2>&1; then
	nok unit-install "make install PREFIX=... failed: $(tail -c 300 "$T/inst.out")"
	exit 0
fi
UNIT=$P/lib/systemd/system/lifelined.service
if ! command -v systemd-analyze >/dev/null; then
	skip unit-verify "systemd-analyze missing (apt-get install systemd)"
elif MANPATH=$P/share/man systemd-analyze verify "$UNIT" >"$T/v.out" 2>&1; then
	ok unit-verify
else
	nok unit-verify "$(head -c 400 "$T/v.out" | tr '\n' '|')"
fi
if command -v systemd-analyze >/dev/null &&
	systemd-analyze security --offline=yes "$UNIT" >"$T/s.out" 2>&1; then
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/s.out")
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
		ok "unit-security # exposure $score"
	else
		nok unit-security "exposure ${score:-?} (want <= 3.0)"
	fi
else
	skip unit-security "systemd-analyze security --offline not available"
fi
for k in Type=notify WatchdogSec= ExecStopPost= CapabilityBoundingSet= ProtectSystem=strict \
	NoNewPrivileges=yes StateDirectory=lifeline RuntimeDirectory=lifeline LogsDirectory=lifeline; do
	grep -q "^$k" "$UNIT" || missing_k="${missing_k:-} $k"
done
[ -z "${missing_k:-}" ] && ok unit-directives || nok unit-directives "missing:$missing_k"

# ExecStopPost, run as systemd would (with $$ unescaped), against a stub
# lifelinectl: it must reset the hooks unless the config says fail-open no
cmd=$(sed -n "s/^ExecStopPost=\/bin\/sh -c '\(.*\)'$/\1/p" "$UNIT" | sed 's/\$\$/$/g')
mv "$P/sbin/lifelinectl" "$P/sbin/lifelinectl.real"
printf '#!/bin/sh\necho "$*" >>%s\n' "$T/calls" >"$P/sbin/lifelinectl"
chmod 755 "$P/sbin/lifelinectl"
stoppost() { # CONFIG-TEXT|- : prints "reset" or "kept"
	rm -f "$T/calls" "$P/etc/lifeline/lifeline.conf"
	[ "$1" = - ] || printf '%s\n' "$1" >"$P/etc/lifeline/lifeline.conf"
	/bin/sh -c "$cmd"
	grep -q -- 'reset --hooks-only' "$T/calls" 2>/dev/null && echo reset || echo kept
}
bad=""
for c in "fail-open no" "  fail-open	no  # closed" "fail-open no#x"; do
	[ "$(stoppost "$c")" = kept ] || bad="$bad [$c: reset]"
done
for c in - "fail-open yes" "#fail-open no" "fail-open nope" "queues 0"; do
	[ "$(stoppost "$c")" = reset ] || bad="$bad [$c: kept]"
done
if [ -z "$cmd" ]; then
	nok unit-stoppost "no ExecStopPost=/bin/sh -c '...' line in the unit"
elif [ -n "$bad" ]; then
	nok unit-stoppost "wrong:$bad"
else
	ok unit-stoppost
fi

# the unit under a real systemd, in namespaces (about 30 s, root; LL_SYSTEMD_NS=0 skips it)
if [ "${LL_SYSTEMD_NS:-1}" = 1 ] && [ "$(id -u)" = 0 ]; then
	bash tests/man/systemd-ns.sh
else
	skip unit-namespace "needs root (or LL_SYSTEMD_NS=0 was given)"
fi
exit 0
