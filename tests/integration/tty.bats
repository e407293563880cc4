#!/usr/bin/env bats
# A terminal on the host, as ssh -t gives one: the job's stdio is a pty
# there, ours is raw while it runs and restored after, the window size
# travels, and Ctrl-C is the remote line discipline's. ptydrive.py plays
# the person at the keyboard (a terminal of 33 rows and 101 columns).

load helpers

setup_file() {
	# home 1 slot, hosts 4: a lone placed compile goes to host1.
	cluster_up --slots 1,4,4
	export DRIVE=$HELPERS_DIR/ptydrive.py
}

drive() { timeout -k 5 60 python3 "$DRIVE" "$@" 3>&-; }

@test "tty: mig -h -t gives the job a terminal of the home's size; ours comes back as it was" {
	run drive -- "$MIG" -h host1 -t sh -c 'test -t 0 && test -t 1 && test -t 2 && stty size'
	[[ ${lines[0]} == "33 101" ]]
	[[ $output == *$'\nstatus 0\ntermios same' ]]
}

@test "tty: without -t the job has no terminal, as with ssh" {
	run drive -- "$MIG" -h host1 sh -c 'test -t 0 || test -t 1 || echo none'
	[[ ${lines[0]} == none ]]
	[[ $output == *$'\nstatus 0\ntermios same' ]]
	run drive -- "$MIG" -h host1 -T sh -c 'test -t 0 || echo none'
	[[ ${lines[0]} == none ]]
}

@test "tty: Ctrl-C typed at home is SIGINT from the host's line discipline" {
	run drive expect:ready 'send:\x03' -- \
		"$MIG" -h host1 -t sh -c 'trap "echo got-INT; exit 3" INT; echo ready; sleep 100 & wait'
	[[ $output == *got-INT* ]]
	[[ $output == *$'\nstatus 3\ntermios same' ]]
}

@test "tty: a resized home terminal resizes the host's, and the job gets SIGWINCH" {
	run drive expect:ready resize:40:120 expect:'40 120' -- \
		"$MIG" -h host1 -t sh -c 'trap "stty size; exit 0" WINCH; echo ready; while :; do sleep 0.1; done'
	[[ $output == *$'\n40 120\n'* ]]
	[[ $output == *$'\nstatus 0\ntermios same' ]]
}

@test "tty: -t keeps home's identity under mig -h: an interactive bash there has job control (Ctrl-Z, jobs, kill %1) and home's name" {
	command -v bash >/dev/null || skip "no bash"
	# Each step waits for what shows the one before it was taken: the
	# prompt, the job itself saying it runs in the foreground, bash
	# saying it stopped, then a line the shell prints only after the
	# killed job is gone (gone-43: the typed line, echoed, says
	# gone-$((6*7+1))).
	# fg, not wait: bash learns that the killed job ended from its
	# SIGCHLD, some time after kill returns, and until then the job is
	# stopped to it: `wait` skips a stopped job ("wait: warning: job 1
	# stopped") and `exit` refuses to leave one ("There are stopped
	# jobs"). bash 5.2 also loses a SIGCHLD that comes while it prints
	# job statuses (its handler reaps nothing), and the job then stays
	# "Stopped" until bash next waits for a child. Both happen without
	# mig too, in about a quarter of the runs on a loaded machine. fg
	# waits for the job in waitpid itself, or finds it already gone.
	run drive expect:'ready> ' 'send:echo name=$(uname -n)\n' expect:'name=' \
		'send:sh -c "echo fg-$((6*7)); exec sleep 100"\n' expect:'fg-42' 'send:\x1a' expect:Stopped \
		'send:kill -9 %1; fg; echo gone-$((6*7+1))\n' expect:'gone-43' 'send:exit 4\n' -- \
		env PS1='ready> ' "$MIG" -h host1 -t bash --norc --noprofile -i
	[[ $output == *"name=$(uname -n)"* ]]
	[[ $output == *Stopped* ]]
	# Killed, in the foreground (fg) or as job 1 (it had ended before).
	[[ $output == *$'\nKilled\n'* || $output == *'+  Killed  '* ]]
	[[ $output == *$'\nstatus 4\ntermios same' ]]
}

@test "tty: mig-rsh -t keeps the host's identity, as ssh -t" {
	is_root || skip "unprivileged, the test hosts share this machine's UTS namespace (one name)"
	run drive -- "$RSH" -t host1 uname -n
	[[ ${lines[0]} == host1* ]]
	run drive -- "$RSH" host1 uname -n
	[[ ${lines[0]} == host1* ]]
}

@test "tty: mig-rsh with no command at a terminal is an interactive login shell there" {
	run drive 'send:echo hi-$((1+1))\n' expect:hi-2 'send:exit 7\n' -- "$RSH" host1
	[[ $output == *hi-2* ]]
	[[ $output == *$'\nstatus 7\ntermios same' ]]
}

@test "tty: a compile placed from a terminal sees its fds as terminals, as at home: gcc's colours byte for byte" {
	command -v script >/dev/null || skip "script(1) (util-linux) not installed"
	local d=$BATS_TEST_TMPDIR
	printf 'int main(void) { int unused; return 0; }\n' >"$d/w.c"
	cd "$d"
	# gcc colours only on a terminal it knows (CI may set no TERM).
	export TERM=xterm
	script -qec "gcc -Wall -c w.c -o w.o" /dev/null >local.out 3>&-
	script -qec "'$MIG' gcc -Wall -c w.c -o w.o" /dev/null >mig.out 3>&-
	grep -q $'\e\\[' local.out
	cmp local.out mig.out
	# It was placed: it ran on host1.
	run --separate-stderr timeout -k 2 20 "$MIG" ps --recent 1 --json
	[[ $output == *'"host":"host1"'*'gcc -Wall -c w.c'* ]]
	# Through pipes at home, pipes there.
	run --separate-stderr timeout -k 2 20 "$MIG" gcc -Wall -c w.c -o w.o
	[[ $stderr != *$'\e['* && $stderr == *unused* ]]
}
