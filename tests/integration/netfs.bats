#!/usr/bin/env bats
# netfs: a network file system mounted from the same source at home and
# on a host is proven by home's token read back, and passed through; the
# same source name reaching other files is not, and the job sees home's.
#
# The kernel here has no NFS, CIFS or 9p, but FUSE works: the network
# file system is sshfs, from a throwaway sshd on 127.0.0.1 whose sftp
# starts in a folder of the test's. Home mounts it on a folder under
# /tmp, which a --private-fs host does not share; host1 mounts the same
# source at the same path inside its own mount namespace (nsenter).
# The decoy is a second sshd reached under the same source name
# ("share:"), whose sftp starts in another folder. Root only.

load helpers

setup_file() {
	mig_env_setup || return 1
	if ! is_root; then
		export NETFS_SKIP="needs root (mounts inside a host daemon's mount namespace)"
		return 0
	fi
	if ! command -v sshfs >/dev/null || [[ ! -x /usr/sbin/sshd ]]; then
		export NETFS_SKIP="needs sshfs and sshd (scripts/deps installs them)"
		return 0
	fi
	if ! unshare -m true 2>/dev/null; then
		export NETFS_SKIP="no mount namespaces here (unshare -m fails)"
		return 0
	fi
	# Keys, configs and exports where every namespace sees them (the
	# private hosts hide /tmp); the mount point where they do not.
	NT=$(mktemp -d /run/mig-netfs.XXXXXX)
	MNT=$(mktemp -d /tmp/mig-netfs-mnt.XXXXXX)
	export NT MNT
	mkdir -p "$NT/a" "$NT/b" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$NT/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$NT/id"
	cp "$NT/id.pub" "$NT/auth"
	start_sshd a
	start_sshd b
	cluster_up --private-fs
	# The hosts first: home's mount, made next, makes home send its
	# list again, and each host proves it against the mount it has.
	mount_share host2 a
	mount_share host1 b
	mount_share "" a
}

gone() { ! kill -0 "$1" 2>/dev/null; }

# mount_share HOST NAME: sshfs of NAME's sshd as "share:" at $MNT in
# HOST's mount namespace ("": home's), in the foreground so that its pid
# is ours to stop (a daemonized sshfs keeps its mount, and bats's
# output, after its namespace's daemon is gone).
mount_share() {
	local in=()
	[[ -z $1 ]] || in=(nsenter -t "$(host_pid "$1")" -m --)
	"${in[@]}" mkdir -p "$MNT"
	"${in[@]}" sshfs -f -F "$NT/$2.cfg" -o dir_cache=no,attr_timeout=0,entry_timeout=0,negative_timeout=0 share: "$MNT" \
		</dev/null >>"$NT/sshfs.log" 2>&1 &
	echo $! >>"$NT/sshfs.pids"
	wait_until 10 "${in[@]}" mountpoint -q "$MNT"
}

teardown_file() {
	[[ -n ${NETFS_SKIP:-} ]] && return 0
	# sshfs unmounts as it stops.
	if [[ -r $NT/sshfs.pids ]]; then
		while read -r p; do
			kill "$p" 2>/dev/null || true
		done <"$NT/sshfs.pids"
		while read -r p; do
			wait_until 10 gone "$p" 2>/dev/null || kill -9 "$p" 2>/dev/null || true
		done <"$NT/sshfs.pids"
	fi
	umount -l "$MNT" 2>/dev/null || true
	cluster_down
	for s in a b; do
		[[ -r $NT/$s.pid ]] && kill "$(cat "$NT/$s.pid")" 2>/dev/null
	done
	rm -rf "$NT"
	rmdir "$MNT" 2>/dev/null || true
}

setup() {
	[[ -z ${NETFS_SKIP:-} ]] || skip "$NETFS_SKIP"
	exec </dev/null
	BG_PIDS=()
}

# start_sshd NAME: an sshd on 127.0.0.1 whose sftp starts in $NT/NAME,
# and NAME.cfg, an ssh config that reaches it as "share".
start_sshd() {
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$NT/$1.sshd" <<-EOF
		ListenAddress 127.0.0.1:$port
		HostKey $NT/hostkey
		PidFile $NT/$1.pid
		AuthorizedKeysFile $NT/auth
		StrictModes no
		PermitRootLogin yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		Subsystem sftp internal-sftp
		ForceCommand internal-sftp -d $NT/$1
	EOF
	cat >"$NT/$1.cfg" <<-EOF
		Host share
		  HostName 127.0.0.1
		  Port $port
		  User root
		  IdentityFile $NT/id
		  IdentitiesOnly yes
		  StrictHostKeyChecking no
		  UserKnownHostsFile /dev/null
		  LogLevel ERROR
	EOF
	/usr/sbin/sshd -f "$NT/$1.sshd" -E "$NT/$1.log"
	wait_until 10 test -s "$NT/$1.pid"
}

# in_host HOST CMD...: CMD in HOST's daemon's mount namespace.
in_host() {
	local h=$1
	shift
	nsenter -t "$(host_pid "$h")" -m -- "$@"
}

# said HOST LIST PATH: HOST is up and said PATH in its LIST (proven or
# not_proven, mig hosts --json).
said() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
h = {h["host"]: h for h in json.load(sys.stdin)}[sys.argv[1]]
sys.exit(not (h["state"] == "up" and sys.argv[3] in h[sys.argv[2]]))' "$@"
}

has_token() { ls -a "$NT/a" | grep -q '^\.mig-proof-home-'; }

# counter HOST NAME: HOST's link counter NAME.
counter() {
	timeout -k 2 10 "$MIG" hosts --json 3>&- | python3 -c '
import json, sys
print({h["host"]: h for h in json.load(sys.stdin)}[sys.argv[1]][sys.argv[2]])' "$@"
}

@test "netfs: the same network source read back on host2 is proven, passed through, and writes land at home" {
	local n=4000000 b0 b1
	# Home's token is in the export, as the server has it, and host2
	# proved home's new list (a job placed before that list came would
	# be served: the mount was not home's yet for host2).
	wait_until 60 has_token
	wait_until 60 said host2 proven "$MNT"
	head -c $n /dev/urandom >"$MNT/data"
	cd "$MNT"
	b0=$(counter host2 sent_bytes)
	timeout -k 2 60 "$MIG" -h host2 cat data >"$BATS_TEST_TMPDIR/got" 3>&-
	cmp "$MNT/data" "$BATS_TEST_TMPDIR/got"
	b1=$(counter host2 sent_bytes)
	echo "proven network mount: $((b1 - b0)) bytes home sent for $n" >&2
	((b1 - b0 < n / 10))
	run --separate-stderr timeout -k 2 10 "$MIG" ps --recent 5
	grep -F "cat data" <<<"$output" | tail -1 | grep -qF "this host's own"
	grep -F "cat data" <<<"$output" | tail -1 | grep -qF "$MNT"
	run --separate-stderr timeout -k 2 60 "$MIG" -h host2 sh -c 'echo written >w'
	[ "$status" -eq 0 ]
	expect_eq "w at home" "$(cat "$MNT/w")" "written"
	expect_eq "w on the server" "$(cat "$NT/a/w")" "written"
}

@test "netfs: the same source name reaching other files on host1 is not proven; the job reads home's bytes" {
	local n=4000000 b0 b1
	wait_until 20 said host1 not_proven "$MNT"
	head -c $n /dev/urandom >"$MNT/data"
	head -c $n /dev/urandom >"$NT/b/data"
	# host1 reaches the other server under the same name (fuse.sshfs,
	# "share:", root /), with a copy of home's token file there: its
	# bytes match, its ctime does not.
	cp "$NT/a"/.mig-proof-home-* "$NT/b/"
	cd "$MNT"
	b0=$(counter host1 sent_bytes)
	timeout -k 2 60 "$MIG" -h host1 cat data >"$BATS_TEST_TMPDIR/got" 3>&-
	cmp "$MNT/data" "$BATS_TEST_TMPDIR/got"
	b1=$(counter host1 sent_bytes)
	echo "decoy: $((b1 - b0)) bytes home sent for $n" >&2
	((b1 - b0 >= n))
	# And mig ps says it was served there.
	run --separate-stderr timeout -k 2 10 "$MIG" ps --recent 5
	[ "$status" -eq 0 ]
	echo "$output" >&2
	grep -F "cat data" <<<"$output" | tail -1 | grep -q "served"
	! grep -F "cat data" <<<"$output" | tail -1 | grep -qF "$MNT"
}
