#!/bin/bash
# proc.sh - process helpers for the test suites. Sourced.
#
#   stop_wait PID     SIGSTOP PID and wait (at most 5 s) until every one of its
#                     threads is stopped. kill returns before they are: the
#                     thread that takes the signal must run first and the
#                     others stop only when they next run, so a request sent
#                     at once may still be answered by a thread still running.

stop_wait() {
	local i s all
	kill -STOP "$1" || return 1
	for ((i = 0; i < 250; i++)); do
		all=1
		for s in /proc/"$1"/task/*/status; do
			grep -q '^State:.*T (stopped)' "$s" 2>/dev/null || { all=; break; }
		done
		[ -n "$all" ] && return 0
		sleep 0.02
	done
	return 1
}
