#!/bin/bash
# full.sh: a full table of the shim's says so, once, on stderr. A job
# (home pid 4242) holds 20 listings of /proc open: the 16 the shim tracks
# show it under its home pid, the others under its host pid, and one
# mig: line says why. Natively all 20 show it and nothing is said.
# Needs MKIDENT (the tool) and PROBES (the folder of probe binaries).
set -u
: "${MKIDENT:?}" "${PROBES:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
line="mig: more than 16 listings of /proc open at once (MIG_PROC_DIRS): the others show host pids"

check() { # check WHAT WANT GOT
	if [ "$2" != "$3" ]; then
		printf 'FAIL %s: want\n%s\ngot\n%s\n' "$1" "$2" "$3"
		fails=$((fails + 1))
	else
		echo "ok   $1"
	fi
}

"$MKIDENT" -N -S -- "$PROBES/probe_full" >"$work/native" 2>"$work/native.err"
check "native output" "$(printf 'listings 20\nself 20')" "$(cat "$work/native")"
check "native stderr" "" "$(cat "$work/native.err")"

"$MKIDENT" -S -p 4242 -P 4241 -g 4240 -s 4239 -- "$PROBES/probe_full" \
	>"$work/home" 2>"$work/home.err"
check "job output" "$(printf 'listings 20\nself 16')" "$(cat "$work/home")"
check "job stderr" "$line" "$(cat "$work/home.err")"
exit $((fails != 0))
