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
