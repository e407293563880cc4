#!/usr/bin/env bats
# cmake --install puts everything under its prefix, and the installed mig
# finds its daemon and libmig.so there; the man pages render cleanly and
# name every environment variable the code reads. No cluster.

load helpers

setup_file() {
	mig_env_setup
	[[ -n ${MIG_BUILD_DIR:-} ]] || MIG_BUILD_DIR=$MIG_BIN/..
	export MIG_BUILD_DIR SRC=$HELPERS_DIR/../..
	export PREFIX=$BATS_FILE_TMPDIR/prefix
	cmake --install "$MIG_BUILD_DIR" --prefix "$PREFIX" \
		>"$BATS_FILE_TMPDIR/install.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/install.log" >&2
		return 1
	}
}

teardown_file() { :; }

@test "install: cmake --install --prefix P puts each part where it belongs" {
	local f
	for f in bin/mig bin/mig-homed; do
		[[ -x $PREFIX/$f && ! -L $PREFIX/$f ]] || {
			echo "missing program $PREFIX/$f" >&2
			return 1
		}
	done
	expect_eq "mig-rsh link" "$(readlink "$PREFIX/bin/mig-rsh")" mig
	for f in lib/mig/mig-reaper lib/mig/mig-standin; do
		[[ -x $PREFIX/$f ]] || {
			echo "missing program $PREFIX/$f" >&2
			return 1
		}
	done
	for f in lib/mig/libmig.so lib/systemd/user/mig-homed.service \
		share/man/man1/mig.1 share/man/man1/mig-rsh.1 share/man/man5/mig-hosts.5 \
		share/man/man8/mig-homed.8 share/bash-completion/completions/mig \
		share/doc/mig/hosts.example; do
		[[ -f $PREFIX/$f ]] || {
			echo "missing $PREFIX/$f" >&2
			return 1
		}
	done
	expect_eq "completion link" "$(readlink "$PREFIX/share/bash-completion/completions/mig-rsh")" mig
	grep -qxF "ExecStart=$PREFIX/bin/mig-homed -f" "$PREFIX/lib/systemd/user/mig-homed.service"
}

@test "install: nothing is installed outside the prefix" {
	local bad
	bad=$(grep -v "^$PREFIX/" "$MIG_BUILD_DIR/install_manifest.txt" || true)
	expect_eq "files outside $PREFIX" "$bad" ""
	# And everything under the prefix is in the manifest.
	expect_eq "files not in the manifest" \
		"$(cd / && find "$PREFIX" ! -type d | sort | comm -23 - <(sort "$MIG_BUILD_DIR/install_manifest.txt"))" ""
}

@test "install: the installed mig starts the installed daemon, and both find the installed libmig.so and mig-reaper" {
	solo_setup
	solo_env
	local root=()
	is_root && root=(MIG_ALLOW_ROOT=1)
	# shellcheck disable=SC2016
	run --separate-stderr timeout -k 5 30 env -u MIG_BIN PATH=/usr/bin:/bin "${SOLO_ENV[@]}" "${root[@]}" \
		"$PREFIX/bin/mig" sh -c 'grep -o "/[^ ]*libmig\.so$" /proc/$$/maps | sort -u'
	[ "$status" -eq 0 ]
	expect_eq "shim of a home job" "$output" "$PREFIX/lib/mig/libmig.so"
	expect_eq "the daemon that runs" "$(daemon_exe "$(cat "$SOLO/run/homed.pid")")" "$PREFIX/bin/mig-homed"
	# The daemon found libmig.so for the jobs it runs (it says when not).
	grep -q 'serving' "$SOLO/run/homed.log"
	if grep -F -e 'no libmig.so' -e 'mig-reaper not found' "$SOLO/run/homed.log" >&2; then
		return 1
	fi
}

@test "install: the man pages render without warnings" {
	command -v man >/dev/null || skip "man (man-db) is not installed"
	local f err
	for f in "$SRC"/man/*.[1-8]; do
		err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$f" 2>&1 >/dev/null)
		expect_eq "warnings of ${f##*/}" "$err" "" || return 1
	done
}

@test "install: the man pages name every environment variable the code reads" {
	local v missing=()
	for v in $(grep -rhoE 'getenv\("[A-Z_]+"\)' "$SRC/launcher" "$SRC/libmig" "$SRC/homed" |
		sed 's/getenv("\(.*\)")/\1/' | sort -u); do
		grep -q -- "$v" "$SRC"/man/*.[1-8] || missing+=("$v")
	done
	expect_eq "variables missing from man/" "${missing[*]}" ""
}

@test "install: bash completion offers the hosts file's names after mig -h and mig-rsh" {
	local bc=/usr/share/bash-completion/bash_completion
	[[ -r $bc ]] || skip "bash-completion is not installed"
	mkdir -p "$BATS_TEST_TMPDIR/config"
	printf '# test\nalpha 127.0.0.1\nbeta 127.0.0.2:7000 4\n' >"$BATS_TEST_TMPDIR/config/hosts"
	# shellcheck disable=SC2016
	run env MIG_CONFIG_DIR="$BATS_TEST_TMPDIR/config" bash -c '
		. "$1"; . "$2"
		COMP_WORDS=(mig -h ""); COMP_CWORD=2; COMP_LINE="mig -h "; COMP_POINT=${#COMP_LINE}
		_mig; echo "${COMPREPLY[*]}"
		COMP_WORDS=(mig-rsh -l me b); COMP_CWORD=3; COMP_LINE="mig-rsh -l me b"; COMP_POINT=${#COMP_LINE}
		_mig_rsh; echo "${COMPREPLY[*]}"' _ "$bc" "$PREFIX/share/bash-completion/completions/mig"
	[ "$status" -eq 0 ]
	expect_eq "completions" "$output" $'alpha beta\nbeta'
}
