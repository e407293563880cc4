#!/usr/bin/env bats
# The commands themselves: --help and --version, usage errors, and what mig
# says when its daemon cannot start because its port is taken. No cluster.

load helpers

setup_file() {
	mig_env_setup
}

teardown_file() { :; }

@test "cli: mig --help prints the usage on stdout, status 0" {
	run --separate-stderr "$MIG" --help
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: mig "* ]]
	[[ $output == *"mig -h HOST"* && $output == *"mig-rsh"* ]]
	expect_eq stderr "$stderr" ""
}

@test "cli: mig hosts remove of a host enrolled for TCP, with a MIG_SSH it cannot use: the line goes, and why its daemon was not stopped is said; no ssh runs" {
	solo_setup
	solo_env
	printf 'host7 127.0.0.9:1 # ssh:nobody@127.0.0.9\n' >>"$SOLO/config/hosts"
	printf '#!/bin/sh\ntouch "%s/ran"\n' "$SOLO" >"$SOLO/fakessh"
	chmod +x "$SOLO/fakessh"
	local many
	many=$(printf 'w %.0s' {1..32})
	run --separate-stderr env "${SOLO_ENV[@]}" MIG_SSH="$SOLO/fakessh $many" "$MIG" hosts remove host7
	expect_eq status "$status" 0
	expect_eq output "$output" "host7: removed; its daemon over ssh:nobody@127.0.0.9 not stopped (MIG_SSH: more than 32 words)"
	run ! grep -q host7 "$SOLO/config/hosts"
	printf 'host7 127.0.0.9:1 # ssh:nobody@127.0.0.9\n' >>"$SOLO/config/hosts"
	run --separate-stderr env "${SOLO_ENV[@]}" MIG_SSH=" 	 " "$MIG" hosts remove host7
	expect_eq output "$output" "host7: removed; its daemon over ssh:nobody@127.0.0.9 not stopped (MIG_SSH: blanks only, no command)"
	[[ ! -e $SOLO/ran ]]
}

@test "cli: mig --version and mig-rsh --version print 'mig VERSION (git COMMIT)', the version from CMakeLists.txt" {
	local v
	v=$(mig_version)
	[[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	run --separate-stderr "$MIG" --version
	[ "$status" -eq 0 ]
	expect_version mig "$output"
	run --separate-stderr "$RSH" --version
	[ "$status" -eq 0 ]
	expect_version mig "$output"
}

@test "cli: mig hosts|ps|policy|keygen --help: usage on stdout, status 0" {
	local c
	for c in hosts ps policy keygen; do
		run --separate-stderr "$MIG" "$c" --help
		[ "$status" -eq 0 ]
		[[ ${lines[0]} == "usage: mig $c"* ]]
		expect_eq "stderr of $c --help" "$stderr" ""
	done
}

@test "cli: mig-homed --help and --version" {
	run --separate-stderr "$HOMED" --help
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: mig-homed"* ]]
	[[ -z $stderr ]]
	run --separate-stderr "$HOMED" --version
	[ "$status" -eq 0 ]
	expect_version mig-homed "$output"
	run --separate-stderr "$HOMED" --no-such-option
	[ "$status" -eq 2 ]
}

@test "cli: no arguments, an unknown option, -h without a command: 255 and one 'mig:' line" {
	run --separate-stderr "$MIG"
	expect_mig_failure
	run --separate-stderr "$MIG" -Q true
	expect_mig_failure
	[[ $stderr == *"unknown option -Q"* ]]
	run --separate-stderr "$MIG" -h host1
	expect_mig_failure
}

@test "cli: a daemon whose port is taken: mig names the port and the way out" {
	solo_setup
	solo_env
	# Something else listens on the solo daemon's address and port.
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(600)' "$SOLO_PORT" 3>&- &
	bg_track $!
	wait_until 20 eval '[[ -n $(ss -ltnH "src 127.0.0.1:$SOLO_PORT") ]]'
	local root=()
	is_root && root=(MIG_ALLOW_ROOT=1)
	run --separate-stderr timeout -k 5 30 env "${SOLO_ENV[@]}" "${root[@]}" "$MIG" -h solo true
	expect_mig_failures
	[[ $stderr == *"mig: cannot start mig-homed: 127.0.0.1:$SOLO_PORT, from the line 'solo' in $SOLO/config/hosts, is taken"* ]]
	[[ $stderr == *"--listen ADDR:PORT"* ]]
	# mig hosts says the same.
	run --separate-stderr timeout -k 5 30 env "${SOLO_ENV[@]}" "${root[@]}" "$MIG" hosts
	expect_mig_failures
	[[ $stderr == *"127.0.0.1:$SOLO_PORT"*"is taken"* ]]
}

# options_agree HELPTEXT FUNC MANPAGE: every option HELPTEXT (a --help
# usage) names is offered by the bash completion's function FUNC and
# appears in man/MANPAGE; prints the ones missing.
options_agree() {
	local src=$HELPERS_DIR/../..
	python3 - "$1" "$src/dist/mig.bash-completion" "$2" "$src/man/$3" <<'PY'
import re, sys
helptext, comp_path, func, man_path = sys.argv[1:5]
# The options of the usage lines, not of the examples in parentheses;
# a cluster like [-46Aa] is one option per letter.
text = re.sub(r"\([^)]*\)", "", helptext)
opts = set(re.findall(r"(?:^|(?<=[\s\[|]))(--?[A-Za-z0-9][-A-Za-z0-9]*)", text))
for cluster in re.findall(r"\[-([0-9A-Za-z]{2,})\]", text):
    opts.discard("-" + cluster)
    opts.update("-" + c for c in cluster)
assert opts, "no options found in the usage"
comp = open(comp_path).read()
body = re.search(r"^%s\(\)\n(.*?)^\} &&" % re.escape(func), comp, re.S | re.M)
assert body, "no function %s in %s" % (func, comp_path)
man = re.sub(r"\\f[BIRP]", "", open(man_path).read().replace("\\-", "-"))
def has(t, o):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), t) is not None
bad = sorted([o + ": not in the completion (" + func + ")" for o in opts
              if not has(body.group(1), o)] +
             [o + ": not in " + man_path for o in opts if not has(man, o)])
print("\n".join(bad))
print("checked:", " ".join(sorted(opts)), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

@test "cli: every option of mig --help and mig-rsh --help is in the bash completion and the man page" {
	run --separate-stderr "$MIG" --help
	[ "$status" -eq 0 ]
	[[ $output == *"--recent"* ]]
	options_agree "$output" _mig mig.1
	run --separate-stderr "$RSH" --help
	[ "$status" -eq 0 ]
	options_agree "$output" _mig_rsh mig-rsh.1
}

@test "cli: the hosts example parses as it says, keywords and all; a line without a port gets the user's default port" {
	local ex=$HELPERS_DIR/../../examples/hosts.example root=()
	solo_setup
	solo_env
	is_root && root=(MIG_ALLOW_ROOT=1)
	# Loopback addresses in place of the example's, so that nothing is
	# dialed off this machine; the words after them stay as they are.
	sed -e 's/192\.168\.10\./127.0.0./' -e 's/build1\.lab\.example\.org/127.0.0.9/' \
		-e 's/\[2001:db8::42\]/127.0.0.10/' "$ex" >>"$SOLO/config/hosts"
	run --separate-stderr timeout -k 5 30 env "${SOLO_ENV[@]}" "${root[@]}" "$MIG" hosts --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
h = {x["host"]: x["address"] for x in json.load(sys.stdin)}
port = 7410 + int(sys.argv[1]) % 20000
want = {"ws1": "127.0.0.11:%d" % port, "ws2": "127.0.0.12:%d" % port,
        "build1": "127.0.0.9:7410", "build2": "127.0.0.10:7411"}
for name, addr in want.items():
    assert h.get(name) == addr, (name, h.get(name), addr)
' "$(id -u)"
}

@test "cli: -T wins over -t, for mig -h as for mig-rsh; -t without a terminal here warns" {
	local env=(MIG_NO_AUTOSTART=1 MIG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run"
		MIG_CONFIG_DIR="$BATS_TEST_TMPDIR/config")
	# No daemon runs: each ends with its mig: line and 255 once it has
	# decided about the terminal.
	run --separate-stderr env "${env[@]}" "$MIG" -h nowhere -t true
	expect_mig_failures
	[[ ${stderr_lines[0]} == "mig: warning: no terminal here"* ]]
	run --separate-stderr env "${env[@]}" "$MIG" -h nowhere -T -tt true
	expect_mig_failure
	run --separate-stderr env "${env[@]}" "$RSH" -t nowhere true
	expect_mig_failures
	[[ ${stderr_lines[0]} == "mig: warning: no terminal here"* ]]
	run --separate-stderr env "${env[@]}" "$RSH" -T -t -t nowhere true
	expect_mig_failure
}

# buildid DIR: the build id cmake/buildid.cmake makes for the sources in DIR.
buildid() {
	local out=$BATS_TEST_TMPDIR/build.h
	rm -f "$out"
	cmake -DSRC="$1" -DOUT="$out" -DVERSION=9.9.9 -P "$HELPERS_DIR/../../cmake/buildid.cmake" >&2 &&
		sed -n 's/^#define MIG_BUILD_STRING "\(.*\)"$/\1/p' "$out"
}

@test "cli: two builds never look the same: the commit, a hash of uncommitted changes, or of the sources outside git" {
	local src=$BATS_TEST_TMPDIR/src a b c d e
	mkdir -p "$src"
	printf 'int main(void) { return 0; }\n' >"$src/a.c"
	git -C "$src" init -q
	git -C "$src" -c user.name=t -c user.email=t@t add a.c
	git -C "$src" -c user.name=t -c user.email=t@t commit -qm one
	a=$(buildid "$src")
	expect_eq "clean" "$a" "9.9.9 (git $(git -C "$src" rev-parse --short=7 HEAD))"
	echo '/* x */' >>"$src/a.c"
	b=$(buildid "$src")
	[[ $b =~ ^"9.9.9 (git $(git -C "$src" rev-parse --short=7 HEAD)-dirty."[0-9a-f]{7}")"$ ]]
	echo '/* y */' >>"$src/a.c"
	c=$(buildid "$src")
	[[ $c == *-dirty.* && $c != "$b" ]]
	rm -rf "$src/.git"
	d=$(buildid "$src")
	[[ $d =~ ^"9.9.9 (sources "[0-9a-f]{7}", not git)"$ ]]
	echo '/* z */' >>"$src/a.c"
	e=$(buildid "$src")
	[[ $e =~ ^"9.9.9 (sources "[0-9a-f]{7}", not git)"$ && $e != "$d" ]]
}
