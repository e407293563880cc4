#!/usr/bin/env bats
# mig-rsh as the ssh of real tools: GNU parallel (--ssh, its cpu-count
# probe), git (GIT_SSH, clone and push), pdsh (-R exec, -R ssh).

load helpers

# need PROGRAM: skip when a tool is not installed (scripts/deps installs it).
need() {
	command -v "$1" >/dev/null || skip "$1 is not installed (scripts/deps installs it)"
}

# barrier DIR N: the shell code of a job that waits until N jobs have
# started (a file each in DIR). With fewer than N at once it never ends,
# and the test's timeout fails it: no timing is measured.
barrier() {
	printf 'touch %q/{#}; until [ "$(ls %q | wc -l)" -ge %d ]; do sleep 0.05; done' "$1" "$1" "$2"
}

setup() {
	exec </dev/null
	BG_PIDS=()
	CLEANUP=()
	# GNU parallel runs its cpu-count probe in a cleaned environment (PATH,
	# HOME, LOGNAME...): the test cluster's dirs go on the --ssh command
	# line. With mig's default dirs no env(1) is needed.
	# Run as CI does, with no SHELL: mig-rsh sets it on the host, as sshd.
	PSSH="env -u SHELL MIG_CONFIG_DIR=$MIG_CONFIG_DIR MIG_RUNTIME_DIR=$MIG_RUNTIME_DIR MIG_HOST=$MIG_HOST mig-rsh"
}

@test "tools: parallel --ssh mig-rsh -S 2/host1,2/host2 runs 4 jobs at once, 2 on each host" {
	need parallel
	local dir=$BATS_TEST_TMPDIR/started
	mkdir "$dir"
	run --separate-stderr timeout -k 5 120 parallel --will-cite --ssh "$PSSH" \
		-S 2/host1,2/host2 "$(barrier "$dir" 4); echo {} \$PARALLEL_SSHLOGIN" ::: a b c d
	[ "$status" -eq 0 ]
	expect_eq stderr "$stderr" ""
	expect_eq "jobs per host" "$(cut -d' ' -f2 <<<"$output" | sort | uniq -c | tr -s ' \n' '  ')" \
		" 2 host1 2 host2 "
	expect_eq "jobs" "$(cut -d' ' -f1 <<<"$output" | sort | tr '\n' ' ')" "a b c d "
}

@test "tools: parallel -S host1 asks host1 for its cpu count through mig-rsh and runs that many jobs" {
	need parallel
	local n dir=$BATS_TEST_TMPDIR/started
	mkdir "$dir"
	# The loopback hosts are this machine: their count is ours.
	n=$(parallel --will-cite --number-of-threads)
	run --separate-stderr timeout -k 5 120 parallel --will-cite --ssh "$PSSH" -S host1 \
		"$(barrier "$dir" "$n"); echo {}" ::: $(seq "$n")
	[ "$status" -eq 0 ]
	# A failed probe warns "Could not figure out number of cpus" and runs 1.
	expect_eq stderr "$stderr" ""
	expect_eq "jobs" "$(sort -n <<<"$output" | tr '\n' ' ')" "$(seq "$n" | tr '\n' ' ')"
}

@test "tools: parallel --ssh mig-rsh passes the job's exit status and output back" {
	need parallel
	run --separate-stderr timeout -k 5 120 parallel --will-cite --ssh "$PSSH" -S 1/host1 \
		'printf "%s|" {}; exit {}' ::: 0 3
	expect_eq "failed jobs" "$status" 1
	expect_eq output "$output" "0|3|"
}

# git_repo: a bare repository "on" host1 (the cluster shares the file
# system) and a committer identity.
git_repo() {
	need git
	export GIT_AUTHOR_NAME=mig GIT_AUTHOR_EMAIL=mig@test GIT_COMMITTER_NAME=mig \
		GIT_COMMITTER_EMAIL=mig@test GIT_CONFIG_NOSYSTEM=1 HOME=$BATS_TEST_TMPDIR
	REPO=$BATS_TEST_TMPDIR/repo.git
	git init -q --bare -b main "$REPO"
}

# git_round VARIANT: clone host1's repo, commit, push, clone again over
# host2: the second clone has the commit. VARIANT: GIT_SSH_VARIANT or "".
git_round() {
	local w=$BATS_TEST_TMPDIR
	unset GIT_SSH_VARIANT
	[[ -z $1 ]] || export GIT_SSH_VARIANT=$1
	export GIT_SSH=mig-rsh
	timeout -k 5 60 git clone -q "host1:$REPO" "$w/a" 2>"$w/clone.err"
	grep -v 'cloned an empty repository' "$w/clone.err" >&2 && return 1
	printf 'made over mig\n' >"$w/a/file"
	git -C "$w/a" add file
	git -C "$w/a" commit -q -m "first"
	timeout -k 5 60 git -C "$w/a" push -q origin HEAD:main
	timeout -k 5 60 git clone -q -b main "host2:$REPO" "$w/b"
	expect_eq "file in the second clone" "$(cat "$w/b/file")" "made over mig"
	expect_eq "commit in the bare repo" "$(git -C "$REPO" log --format=%s main)" first
}

@test "tools: git clone and push with GIT_SSH=mig-rsh (GIT_SSH_VARIANT unset)" {
	git_repo
	git_round ""
}

@test "tools: git clone and push with GIT_SSH=mig-rsh GIT_SSH_VARIANT=ssh" {
	git_repo
	git_round ssh
}

@test "tools: git clone host1:repo.git resolves repo.git in \$HOME, as over ssh, from any folder" {
	git_repo
	export GIT_SSH=mig-rsh
	mkdir "$BATS_TEST_TMPDIR/elsewhere"
	cd "$BATS_TEST_TMPDIR/elsewhere"
	# $HOME is $BATS_TEST_TMPDIR (git_repo), which holds repo.git.
	timeout -k 5 60 git clone -q host1:repo.git clone 2>"$BATS_TEST_TMPDIR/clone.err"
	grep -v 'cloned an empty repository' "$BATS_TEST_TMPDIR/clone.err" >&2 && return 1
	expect_eq "origin" "$(git -C clone remote get-url origin)" host1:repo.git
	printf 'relative\n' >clone/file
	git -C clone add file
	git -C clone commit -q -m relative
	timeout -k 5 60 git -C clone push -q origin HEAD:main
	expect_eq "commit in \$HOME/repo.git" "$(git -C "$REPO" log --format=%s main)" relative
}

@test "tools: git with GIT_SSH_VARIANT=ssh and a port: -p is accepted" {
	git_repo
	export GIT_SSH=mig-rsh GIT_SSH_VARIANT=ssh
	timeout -k 5 60 git clone -q "ssh://host1:2222$REPO" "$BATS_TEST_TMPDIR/a" 2>/dev/null
	[ -d "$BATS_TEST_TMPDIR/a/.git" ]
}

@test "tools: pdsh -R exec -w host1,host2 mig-rsh %h CMD" {
	need pdsh
	run --separate-stderr timeout -k 5 60 pdsh -S -R exec -w host1,host2 mig-rsh %h 'echo $((6 * 7))'
	[ "$status" -eq 0 ]
	expect_eq output "$(sort <<<"$output")" $'host1: 42\nhost2: 42'
}

@test "tools: pdsh -R exec -w host1,host2 mig-rsh %h uname -n names each host, as over ssh" {
	need pdsh
	is_root || skip "unprivileged, the test hosts share this machine's UTS namespace (one name)"
	run --separate-stderr timeout -k 5 60 pdsh -S -R exec -w host1,host2 mig-rsh %h uname -n
	[ "$status" -eq 0 ]
	expect_eq output "$(sort <<<"$output")" $'host1: host1\nhost2: host2'
}

@test "tools: pdsh -R ssh with ssh linked to mig-rsh, default args and PDSH_SSH_ARGS" {
	need pdsh
	local sh
	sh=$(getent passwd "$(id -un)" | cut -d: -f7)
	mkdir "$BATS_TEST_TMPDIR/bin"
	ln -s "$RSH" "$BATS_TEST_TMPDIR/bin/ssh"
	export PATH=$BATS_TEST_TMPDIR/bin:$PATH
	# pdsh's default: ssh -oConnectTimeout=10 -2 -a -x [-lUSER] HOST CMD
	run --separate-stderr timeout -k 5 60 pdsh -S -R ssh -w 'host[1-2]' 'echo via $0; exit 3'
	expect_eq "largest status (-S)" "$status" 3
	# The login shell ran the command, as "SHELL -c CMD".
	expect_eq output "$(sort <<<"$output")" "host1: via ${sh:-/bin/sh}"$'\n'"host2: via ${sh:-/bin/sh}"
	PDSH_SSH_ARGS='-q -T -l%u %h' run --separate-stderr timeout -k 5 60 \
		pdsh -S -R ssh -w host1,host2 echo args
	[ "$status" -eq 0 ]
	expect_eq output "$(sort <<<"$output")" $'host1: args\nhost2: args'
	# Another user: mig-rsh refuses, pdsh reports 255.
	PDSH_SSH_ARGS='-l%u %h' run --separate-stderr timeout -k 5 60 \
		pdsh -S -l nosuchuser -R ssh -w host1 true
	expect_eq status "$status" 255
	[[ $stderr == *"host1: mig: cannot run as 'nosuchuser'"* ]]
}

# as_par CMD...: CMD as the test's user $PU, in the environment GNU
# parallel, cron or sudo leave: PATH and HOME, no XDG_RUNTIME_DIR and
# none of mig's variables.
as_par() {
	setpriv --reuid="$PU" --regid="$(id -g "$PU")" --clear-groups \
		env -i PATH="$PATH" HOME="$PW/home" LANG=C "$@"
}

# par_cleanup: the home daemon, the user's cluster, its folders, then the
# user (userdel refuses a user who still runs a process). Every process
# of the user is this test's: one a failed step left (a daemon that
# never wrote where the test looked) is killed by its pid.
par_cleanup() {
	local p
	if [[ -n ${PHOMED:-} ]] && alive "$PHOMED"; then
		kill -TERM "$PHOMED"
		wait_until 5 eval "! alive $PHOMED" || kill -KILL "$PHOMED"
	fi
	[[ ! -f $PW/cluster/cluster.conf ]] || "$CLUSTER" down "$PW/cluster"
	for p in $(pgrep -u "$PU"); do
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$PW" "$PRUN" "/tmp/mig-$PUID"
	wait_until 10 eval "userdel '$PU' 2>/dev/null"
}

@test "tools: parallel --ssh mig-rsh -S host1,host2 finds home's daemon in /run/user/UID/mig with no XDG_RUNTIME_DIR: no warning, every CPU used" {
	need parallel
	is_root || skip "needs root: a user of the test's own, with a /run/user/UID as logind makes it"
	command -v useradd >/dev/null && command -v setpriv >/dev/null || skip "no useradd or setpriv"
	local n dir port
	PU=migpar$$
	useradd -M -N -d /nonexistent -s /bin/sh "$PU"
	PUID=$(id -u "$PU")
	PRUN=/run/user/$PUID
	PW=$(mktemp -d /tmp/mig-par.XXXXXX)
	CLEANUP+=(par_cleanup)
	[[ ! -e $PRUN && ! -e /tmp/mig-$PUID ]] || {
		echo "$PRUN or /tmp/mig-$PUID is another run's leftover" >&2
		return 1
	}
	# As logind makes it at login.
	install -d -m 0700 -o "$PU" "$PRUN"
	chmod 0755 "$PW"
	install -d -m 0700 -o "$PU" "$PW/home" "$PW/home/.config" "$PW/home/.config/mig" "$PW/cluster"
	# The user's cluster (unprivileged: its daemons are this machine's
	# processes), then its home daemon again with the default folders:
	# config in ~/.config/mig, runtime found with no variable at all.
	as_par MIG_BIN="$MIG_BIN" MIG_CLUSTER_DIR="$PW/cluster" "$CLUSTER" up 2 >/dev/null
	as_par "$CLUSTER" kill home "$PW/cluster"
	port=$(sed -n 's/^PORT=//p' "$PW/cluster/cluster.conf")
	install -m 0600 -o "$PU" "$PW/cluster/hosts" "$PW/cluster/key" "$PW/home/.config/mig/"
	as_par "$HOMED" -f --name home --listen "127.0.0.1:$port" \
		</dev/null >"$BATS_TEST_TMPDIR/homed.err" 2>&1 3>&- &
	bg_track $!
	wait_until 20 test -S "$PRUN/mig/homed.sock"
	PHOMED=$(cat "$PRUN/mig/homed.pid")
	[[ ! -e /tmp/mig-$PUID ]]
	wait_until 20 eval "as_par '$MIG' hosts 2>/dev/null | grep -c ' up ' | grep -qx 2"
	# A client of a login session (XDG_RUNTIME_DIR set) finds the same.
	run --separate-stderr as_par XDG_RUNTIME_DIR="$PRUN" "$RSH" host1 echo same
	expect_eq "with XDG_RUNTIME_DIR=$PRUN" "$output" same
	# parallel asks each host for its CPU count through a plain
	# mig-rsh; a failed probe would warn and run one job per host, and
	# the barrier would never open.
	n=$(parallel --will-cite --number-of-threads)
	dir=$PW/started
	install -d -m 0700 -o "$PU" "$dir"
	run --separate-stderr as_par timeout -k 5 120 parallel --will-cite --ssh mig-rsh \
		-S host1,host2 "$(barrier "$dir" $((2 * n))); echo {} \$PARALLEL_SSHLOGIN" ::: $(seq $((2 * n)))
	[ "$status" -eq 0 ]
	expect_eq stderr "$stderr" ""
	expect_eq "jobs per host" "$(cut -d' ' -f2 <<<"$output" | sort | uniq -c | tr -s ' \n' '  ')" \
		" $n host1 $n host2 "
	# No client looked in /tmp, nor made a daemon there.
	[[ ! -e /tmp/mig-$PUID ]]
}
