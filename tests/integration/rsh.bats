#!/usr/bin/env bats
# mig-rsh: a drop-in for rsh/ssh as a remote shell (rsync -e, tar pipes).

load helpers

# make_tree DIR: random binary files of awkward sizes and names, in
# subdirectories, with a symlink, an empty dir and odd modes.
make_tree() {
	local d=$1 i
	mkdir -p "$d/sub/deeper" "$d/empty dir" "$d/with space"
	head -c 0 /dev/urandom >"$d/zero"
	head -c 1 /dev/urandom >"$d/one"
	head -c 65537 /dev/urandom >"$d/sub/65537"
	head -c 3M /dev/urandom >"$d/sub/deeper/big.bin"
	for i in 1 2 3 4 5; do
		head -c $((RANDOM * 7)) /dev/urandom >"$d/with space/file $i"
	done
	printf '#!/bin/sh\necho hi\n' >"$d/sub/script"
	chmod 0755 "$d/sub/script"
	chmod 0600 "$d/one"
	ln -s sub/deeper/big.bin "$d/link"
	printf 'line\r\n\0nul\n' >"$d/sub/odd"$'\t'"name"
}

# same_tree A B: same names, types, modes, sizes, symlink targets and bytes.
same_tree() {
	diff -r --no-dereference "$1" "$2"
	diff <(cd "$1" && find . -printf '%P %y %m %s %l\n' | sort) \
		<(cd "$2" && find . -printf '%P %y %m %s %l\n' | sort)
}

@test "rsh: mig-rsh host1 echo a b prints 'a b'" {
	run --separate-stderr timeout -k 5 20 "$RSH" host1 echo a b
	[ "$status" -eq 0 ]
	expect_eq output "$output" "a b"
}

@test "rsh: the words are joined with spaces and run by the login shell" {
	# as rsh: "echo" "a  b" becomes the command line "echo a  b"
	run --separate-stderr timeout -k 5 20 "$RSH" host1 echo 'a  b'
	expect_eq "joined words" "$output" "a b"
	run --separate-stderr timeout -k 5 20 "$RSH" host1 'echo $((6 * 7)) | cat; exit 3'
	expect_eq "shell syntax" "$output" 42
	expect_eq "status" "$status" 3
	# The login shell from passwd runs it, as "$SHELL -c": $0 names it.
	local shell
	shell=$(getent passwd "$(id -un)" | cut -d: -f7)
	# shellcheck disable=SC2016
	run --separate-stderr timeout -k 5 20 "$RSH" host1 'echo $0'
	[ "$status" -eq 0 ]
	local name=${output#-}
	expect_eq "remote shell" "${name##*/}" "${shell##*/}"
}

@test "rsh: -l with our own user name works" {
	run --separate-stderr timeout -k 5 20 "$RSH" -l "$(id -un)" host1 echo me
	[ "$status" -eq 0 ]
	expect_eq output "$output" me
}

@test "rsh: -l nosuchuser -> 255 and one 'mig:' line" {
	run --separate-stderr timeout -k 5 20 "$RSH" -l nosuchuser host1 true
	expect_mig_failure
}

@test "rsh: -n gives the remote command EOF on stdin" {
	run --separate-stderr timeout -k 5 20 bash -c '"$0" -n host1 cat </dev/zero | wc -c' "$RSH"
	[ "$status" -eq 0 ]
	expect_eq "bytes read" "$output" 0
}

@test "rsh: rsync -a -e mig-rsh copies a tree to host1 byte for byte" {
	local src=$BATS_TEST_TMPDIR/src dst
	make_tree "$src"
	dst=$(mktemp -d /tmp/mig-rsync.XXXXXX)
	CLEANUP+=("rm -rf '$dst'")
	timeout -k 5 60 rsync -a -e "$RSH" "$src/" "host1:$dst/"
	same_tree "$src" "$dst"
}

@test "rsh: rsync -a -e mig-rsh copies a tree from host2 byte for byte" {
	local src=$BATS_TEST_TMPDIR/src dst
	make_tree "$src"
	dst=$(mktemp -d /tmp/mig-rsync.XXXXXX)
	CLEANUP+=("rm -rf '$dst'")
	timeout -k 5 60 rsync -a -e "$RSH" "host2:$src/" "$dst/"
	same_tree "$src" "$dst"
}

@test "rsh: tar c | mig-rsh host1 'tar x -C dst' copies a tree byte for byte" {
	local src=$BATS_TEST_TMPDIR/src dst
	make_tree "$src"
	dst=$(mktemp -d /tmp/mig-tar.XXXXXX)
	CLEANUP+=("rm -rf '$dst'")
	tar c -C "$src" . | timeout -k 5 60 "$RSH" host1 "tar x -C $dst"
	[ "${PIPESTATUS[1]}" -eq 0 ]
	same_tree "$src" "$dst"
}

@test "rsh: mig-rsh HOST tar c | tar x copies a tree back byte for byte" {
	local src=$BATS_TEST_TMPDIR/src dst=$BATS_TEST_TMPDIR/dst
	make_tree "$src"
	mkdir "$dst"
	timeout -k 5 60 "$RSH" host2 tar c -C "$src" . | tar x -C "$dst"
	[ "${PIPESTATUS[0]}" -eq 0 ]
	same_tree "$src" "$dst"
}

@test "rsh: ssh's common options are accepted silently" {
	run --separate-stderr timeout -k 5 20 "$RSH" -p 22 -o BatchMode=yes \
		-oStrictHostKeyChecking=no -o 'ConnectTimeout 5' -x -T -q -4 -6 -C -A \
		-a -k -2 -v -i /nonexistent/id -F /dev/null -e none -c aes128-ctr \
		-l "$(id -un)" -qTx host1 echo ok
	[ "$status" -eq 0 ]
	expect_eq stdout "$output" ok
	expect_eq stderr "$stderr" ""
}

@test "rsh: '--' after the host, and options after the host are the command's" {
	run --separate-stderr timeout -k 5 20 "$RSH" -n host1 -- echo a
	expect_eq "after --" "$output" a
	run --separate-stderr timeout -k 5 20 "$RSH" -- host1 echo b
	expect_eq "-- before the host" "$output" b
	run --separate-stderr timeout -k 5 20 "$RSH" host1 echo -n -l x
	[ "$status" -eq 0 ]
	expect_eq "echo's own options" "$output" "-l x"
}

@test "rsh: user@host and -o User= with our own name work; another user is refused" {
	local me
	me=$(id -un)
	run --separate-stderr timeout -k 5 20 "$RSH" "$me@host1" echo at
	[ "$status" -eq 0 ]
	expect_eq "user@host" "$output" at
	run --separate-stderr timeout -k 5 20 "$RSH" -o "User=$me" host1 echo opt
	expect_eq "-o User=" "$output" opt
	run --separate-stderr timeout -k 5 20 "$RSH" "nosuchuser@host1" true
	expect_mig_failure
	[[ $stderr == *"cannot run as 'nosuchuser'"* ]]
	run --separate-stderr timeout -k 5 20 "$RSH" -o User=nosuchuser host1 true
	expect_mig_failure
}

@test "rsh: ssh options mig cannot honour are refused with one 'mig:' line" {
	local opt
	for opt in -X -Y -N -f "-L 1:h:2" "-R 1:h:2" "-D 1080" "-J jump" "-W h:1" \
		-M "-S /tmp/ctl" "-O check" -G; do
		# shellcheck disable=SC2086 # the option and its value are two words
		run --separate-stderr timeout -k 5 20 "$RSH" $opt host1 true
		expect_mig_failure || {
			echo "for option $opt" >&2
			return 1
		}
		[[ $stderr == "mig: ${opt%% *}: "* ]]
	done
	run --separate-stderr timeout -k 5 20 "$RSH" -X host1 true
	[[ $stderr == *X11* ]]
}

@test "rsh: unknown options, a missing value or no host: 255 and one 'mig:' line" {
	run --separate-stderr timeout -k 5 20 "$RSH" -Z host1 true
	expect_mig_failure
	[[ $stderr == *"unknown option -Z"* ]]
	run --separate-stderr timeout -k 5 20 "$RSH" -p
	expect_mig_failure
	[[ $stderr == *"-p needs a value"* ]]
	run --separate-stderr timeout -k 5 20 "$RSH" -q
	expect_mig_failure
	[[ $stderr == *"no host"* ]]
}

@test "rsh: --help prints the usage on stdout; --version and -V the version" {
	run --separate-stderr "$RSH" --help
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: mig-rsh "* ]]
	expect_eq stderr "$stderr" ""
	run --separate-stderr "$RSH" --version
	[ "$status" -eq 0 ]
	expect_version mig "$output"
	run --separate-stderr "$RSH" -V
	expect_version mig "$output"
}

@test "rsh: no command, a script on stdin: the login shell reads it" {
	run --separate-stderr timeout -k 5 20 "$RSH" host1 < <(printf 'echo one\necho two\nexit 7\n')
	expect_eq status "$status" 7
	expect_eq output "$output" $'one\ntwo'
	# -n: the shell reads EOF and ends.
	run --separate-stderr timeout -k 5 20 "$RSH" -n host1
	[ "$status" -eq 0 ]
	expect_eq output "$output" ""
}

@test "rsh: a link named ssh is mig-rsh" {
	ln -s "$RSH" "$BATS_TEST_TMPDIR/ssh"
	run --separate-stderr timeout -k 5 20 "$BATS_TEST_TMPDIR/ssh" -x -a host1 echo 'a  b'
	[ "$status" -eq 0 ]
	expect_eq output "$output" "a b"
}

@test "rsh: as from sshd, the command has SHELL from the user database, and HOME, USER, LOGNAME" {
	local shell
	shell=$(getent passwd "$(id -un)" | cut -d: -f7)
	run --separate-stderr timeout -k 5 20 env -u SHELL -u HOME -u USER -u LOGNAME \
		"$RSH" host1 'echo "$SHELL|$HOME|$USER|$LOGNAME"'
	[ "$status" -eq 0 ]
	expect_eq output "$output" "${shell:-/bin/sh}|$(getent passwd "$(id -un)" | cut -d: -f6)|$(id -un)|$(id -un)"
}

@test "rsh: a user the user database does not show (LDAP, sssd) comes from USER, HOME and SHELL" {
	# A user namespace gives the launcher a uid /etc/passwd does not
	# have; the daemons still see the caller's own.
	unshare -U --map-user=4242 --map-group=4242 true 2>/dev/null ||
		skip "no user namespace here"
	! getent passwd 4242 >/dev/null || skip "uid 4242 is in the user database"
	local home=$BATS_TEST_TMPDIR/ldaphome
	mkdir "$home"
	run --separate-stderr timeout -k 5 20 unshare -U --map-user=4242 \
		--map-group=4242 env -u LOGNAME USER=ldapuser HOME="$home" SHELL=/bin/bash \
		"$RSH" host1 'echo "$SHELL|$HOME|$USER|$LOGNAME|$PWD"'
	[ "$status" -eq 0 ]
	expect_eq output "$output" "/bin/bash|$home|ldapuser|ldapuser|$home"
	# With no USER, LOGNAME or HOME, mig cannot tell who it runs as.
	run --separate-stderr timeout -k 5 20 unshare -U --map-user=4242 \
		--map-group=4242 env -u USER -u LOGNAME -u HOME "$RSH" host1 true
	expect_mig_failure
	[[ $stderr == *"uid 4242 is not in the user database"* ]]
}

# own_home: HOME is a folder of this test's, the hosts see it (the cluster
# shares home's files); "ssh" commands start there.
own_home() {
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
}

@test "rsh: as ssh, a command starts in \$HOME whatever the caller's cwd (even a removed one); mig -h starts in the cwd" {
	own_home
	mkdir "$BATS_TEST_TMPDIR/elsewhere"
	cd "$BATS_TEST_TMPDIR/elsewhere"
	run --separate-stderr timeout -k 5 20 "$RSH" host1 pwd
	[ "$status" -eq 0 ]
	expect_eq "mig-rsh's cwd" "$output" "$HOME"
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 pwd
	expect_eq "mig -h's cwd" "$output" "$BATS_TEST_TMPDIR/elsewhere"
	# A cwd that is gone stops mig -h, not mig-rsh.
	rmdir "$BATS_TEST_TMPDIR/elsewhere"
	run --separate-stderr timeout -k 5 20 "$RSH" host2 pwd
	[ "$status" -eq 0 ]
	expect_eq "mig-rsh's cwd from a removed folder" "$output" "$HOME"
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 pwd
	expect_mig_failure
	# A home folder that is not there: the command starts in /, and
	# says so on stderr, as sshd does.
	HOME=$BATS_TEST_TMPDIR/gone run --separate-stderr timeout -k 5 20 "$RSH" host1 pwd
	[ "$status" -eq 0 ]
	expect_eq "cwd without a home folder" "$output" /
	expect_eq stderr "$stderr" "mig: could not chdir to home directory $BATS_TEST_TMPDIR/gone: No such file or directory; starting in /"
	# HOME that is no absolute path: one line, nothing runs.
	HOME=relative run --separate-stderr timeout -k 5 20 "$RSH" host1 pwd
	expect_mig_failure
	[[ $stderr == *"HOME is not an absolute path (relative)"* ]]
}

@test "rsh: rsync -a -e mig-rsh to and from a path relative to \$HOME, called from another folder" {
	own_home
	local src=$BATS_TEST_TMPDIR/src
	make_tree "$src"
	cd /
	timeout -k 5 60 rsync -a -e "$RSH" "$src/" host1:copy/
	same_tree "$src" "$HOME/copy"
	timeout -k 5 60 rsync -a -e "$RSH" host2:copy/ "$BATS_TEST_TMPDIR/back/"
	same_tree "$src" "$BATS_TEST_TMPDIR/back"
}

@test "rsh: scp -S mig-rsh (sftp protocol) copies to and from host1, relative to \$HOME, byte for byte" {
	command -v scp >/dev/null || skip "no scp (openssh-client)"
	own_home
	local f=$BATS_TEST_TMPDIR/blob
	head -c 3000001 /dev/urandom >"$f"
	cd /
	run --separate-stderr timeout -k 5 60 scp -S "$RSH" "$f" host1:sent
	[ "$status" -eq 0 ]
	cmp "$f" "$HOME/sent"
	run --separate-stderr timeout -k 5 60 scp -S "$RSH" host2:sent "$BATS_TEST_TMPDIR/got"
	[ "$status" -eq 0 ]
	cmp "$f" "$BATS_TEST_TMPDIR/got"
	# The old scp protocol runs scp on the host: that works too.
	run --separate-stderr timeout -k 5 60 scp -O -S "$RSH" "$f" host1:old
	[ "$status" -eq 0 ]
	cmp "$f" "$HOME/old"
}

@test "rsh: sftp -S mig-rsh puts and gets a file byte for byte; its remote folder is \$HOME" {
	command -v sftp >/dev/null || skip "no sftp (openssh-client)"
	own_home
	local f=$BATS_TEST_TMPDIR/blob
	head -c 1000003 /dev/urandom >"$f"
	cd /
	run --separate-stderr timeout -k 5 60 sftp -S "$RSH" -b - host1 \
		< <(printf 'put %s put.bin\nget put.bin %s\npwd\n' "$f" "$BATS_TEST_TMPDIR/got")
	[ "$status" -eq 0 ]
	cmp "$f" "$HOME/put.bin"
	cmp "$f" "$BATS_TEST_TMPDIR/got"
	[[ $output == *"Remote working directory: $HOME"* ]]
}

@test "rsh: -s names the sftp subsystem only; without a name, one 'mig:' line" {
	run --separate-stderr timeout -k 5 20 "$RSH" -s host1 shell
	expect_mig_failure
	[[ $stderr == *"-s shell: mig-rsh runs the sftp subsystem only"* ]]
	run --separate-stderr timeout -k 5 20 "$RSH" -s host1
	expect_mig_failure
	[[ $stderr == *"-s needs a subsystem name"* ]]
}

# host_has PID WORD: host1 has a process PID (in its own pid space) whose
# command line holds WORD.
host_has() {
	local cmd
	cmd=$(timeout -k 5 20 "$RSH" host1 "cat /proc/$1/cmdline" 2>/dev/null | tr '\0' ' ') || return 1
	[[ $cmd == *"$2"* ]]
}

@test "rsh: nohup … & and setsid -f outlive a mig-rsh command, as under ssh; under mig -h nothing does" {
	local s1 s2 s3 out pid
	s1=$(unique_sleep)
	s2=$(unique_sleep)2
	s3=$(unique_sleep)3
	# Each pid seen from here, whatever the hosts' pid spaces, is
	# killed at the end.
	CLEANUP+=("for p in \$(mig_pgrep 'sleep ($s1|$s2|$s3)\$'); do kill -KILL \$p; done")
	run --separate-stderr timeout -k 5 20 "$RSH" host1 \
		"nohup sleep $s1 >/dev/null 2>&1 & echo \$!; setsid -f sleep $s2 >/dev/null 2>&1"
	[ "$status" -eq 0 ]
	pid=$output
	# On host1, by the pid its shell gave: still there once mig-rsh ended.
	host_has "$pid" "sleep $s1"
	[[ -n $(mig_pgrep "sleep $s2\$") ]]
	# mig -h: the job's end is the end of everything it started.
	run --separate-stderr timeout -k 5 20 "$MIG" -h host1 sh -c \
		"nohup sleep $s3 >/dev/null 2>&1 & echo \$!; setsid -f sleep $s3 >/dev/null 2>&1"
	[ "$status" -eq 0 ]
	wait_until 10 eval "[[ -z \$(mig_pgrep 'sleep $s3\$') ]]"
	# And the survivor ends when killed on host1.
	timeout -k 5 20 "$RSH" host1 "kill $pid"
	wait_until 10 eval "! host_has $pid 'sleep $s1'"
}

@test "rsh: a background job that still holds the output keeps mig-rsh waiting and its output shown, as ssh does" {
	local f=$BATS_TEST_TMPDIR/done
	# The background job writes after the shell ended: ssh would wait
	# for it and show its output.
	run --separate-stderr timeout -k 5 30 "$RSH" host1 "(sleep 1; echo late; touch $f) & echo early"
	[ "$status" -eq 0 ]
	expect_eq output "$output" $'early\nlate'
	[ -e "$f" ]
}
