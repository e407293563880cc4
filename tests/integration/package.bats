#!/usr/bin/env bats
# The Debian package: CPack builds it from the build tree; as root it is
# installed with dpkg, /usr/bin/mig answers --version and --help, and it
# is removed again, also when a check fails. No cluster.

load helpers

setup_file() {
	mig_env_setup
	[[ -n ${MIG_BUILD_DIR:-} ]] || MIG_BUILD_DIR=$MIG_BIN/..
	export MIG_BUILD_DIR
}

teardown_file() { :; }

# installed PACKAGE: dpkg has it (in any state but "not installed").
installed() {
	local st
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) || return 1
	[[ -n $st && $st != un* && $st != pn* ]]
}

# dpkg_locked CMD...: runs dpkg, waiting for other dpkg and apt runs on
# this machine to let go of its lock (another user's install is no
# failure of ours).
dpkg_locked() {
	local i out
	for ((i = 0; i < 300; i++)); do
		if out=$("$@" 2>&1); then
			return 0
		fi
		[[ $out == *"lock"* ]] || break
		sleep 1
	done
	printf '%s\n' "$out" >&2
	return 1
}

@test "package: cpack builds a .deb with mig's files and Depends" {
	command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
	local out=$BATS_TEST_TMPDIR/deb deb
	timeout -k 5 300 cpack -G DEB --config "$MIG_BUILD_DIR/CPackConfig.cmake" -B "$out" \
		>"$BATS_TEST_TMPDIR/cpack.log" 2>&1 || {
		cat "$BATS_TEST_TMPDIR/cpack.log" >&2
		return 1
	}
	deb=$(echo "$out"/mig_*.deb)
	[[ -f $deb ]]
	expect_eq Package "$(dpkg-deb -f "$deb" Package)" mig
	expect_eq Version "$(dpkg-deb -f "$deb" Version)" "$(mig_version)"
	local dep
	for dep in libuv1 libsodium23 libffi8 libbsd0 libfuse3-3; do
		[[ ,$(dpkg-deb -f "$deb" Depends | tr -d ' '), == *",$dep"[,\(]* ]] || {
			echo "Depends lacks $dep: $(dpkg-deb -f "$deb" Depends)" >&2
			return 1
		}
	done
	dpkg-deb -c "$deb" | awk '{ print $6 }' >"$BATS_TEST_TMPDIR/files"
	for f in ./usr/bin/mig ./usr/bin/mig-homed ./usr/bin/mig-rsh ./usr/lib/mig/libmig.so ./usr/lib/mig/mig-reaper \
		./usr/lib/mig/mig-standin \
		./usr/lib/systemd/user/mig-homed.service ./usr/share/man/man1/mig.1 \
		./usr/share/bash-completion/completions/mig; do
		grep -qxF "$f" "$BATS_TEST_TMPDIR/files" || {
			echo "$f is not in the package" >&2
			return 1
		}
	done
	cp "$deb" "$BATS_FILE_TMPDIR/mig.deb"
}

@test "package: as root, dpkg -i; /usr/bin/mig --version and --help; dpkg -r" {
	[[ -f $BATS_FILE_TMPDIR/mig.deb ]] || skip "no package built (the test before failed or skipped)"
	is_root || skip "installing a package needs root"
	command -v dpkg >/dev/null || skip "dpkg is not installed"
	if installed mig; then
		skip "a mig package is already installed; not touching it"
	fi
	# Removed again whatever happens below.
	CLEANUP+=("dpkg_locked dpkg -r mig >/dev/null")
	dpkg_locked dpkg -i "$BATS_FILE_TMPDIR/mig.deb"
	installed mig
	run --separate-stderr /usr/bin/mig --version
	[ "$status" -eq 0 ]
	expect_version mig "$output"
	run --separate-stderr env PATH=/usr/bin:/bin mig --help
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: mig "* ]]
	expect_eq "mig-rsh link" "$(readlink /usr/bin/mig-rsh)" mig
	grep -qxF "ExecStart=/usr/bin/mig-homed -f" /usr/lib/systemd/user/mig-homed.service
	dpkg_locked dpkg -r mig
	# Not `! installed mig`: bats does not fail a test on a negated
	# command that is not its last.
	run ! installed mig
	[[ ! -e /usr/bin/mig && ! -e /usr/lib/mig/libmig.so ]]
}
