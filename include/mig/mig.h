/*
 * mig.h: error codes, directories and the blocking client API to the
 * local mig-homed. Shared by the launcher, the daemon and the tests.
 */
#ifndef MIG_MIG_H
#define MIG_MIG_H

#include <stddef.h>
#include <stdint.h>

#include "mig/version.h" /* MIG_VERSION_STRING, from the CMake project */

/* The release and what it was built from, as --version prints it:
 * "0.2.0 (git 1a2b3c4)", "0.2.0 (git 1a2b3c4-dirty.5d6e7f8)" or, outside
 * a git checkout, "0.2.0 (sources 9a8b7c6, not git)". Static storage. */
const char *mig_build_string(void);

/* The launcher's own failures exit with this, never the program's. */
#define MIG_EXIT_FAILURE 255
/* A command that could not be found or executed, as a shell reports it. */
#define MIG_EXIT_NOTFOUND 127
#define MIG_EXIT_NOEXEC 126

/* Each user's daemon has its own TCP port: the default is
 * MIG_PORT_BASE + uid % MIG_PORT_USERS (7410 for uid 0, 8410 for 1000),
 * always from 7410 to 27409. A hosts line without a port means this
 * port, that is the same uid's on that host. */
#define MIG_PORT_BASE 7410
#define MIG_PORT_USERS 20000
#define MIG_DEFAULT_PORT mig_default_port()
uint16_t mig_default_port(void);
#define MIG_KEY_BYTES 32
#define MIG_NAME_MAX 64

/*
 * Error codes: 0 is success, a negative errno is a system error
 * (MIG__ERR(errno)), and the codes below -4096 are mig's own.
 */
#define MIG_ERRNO_MAP(X)                                                     \
	X(EINTERNAL, -5000, "internal error")                                \
	X(EPROTO, -5001, "malformed message")                                \
	X(EVERSION, -5002, "protocol version mismatch")                      \
	X(EAGAIN, -5003, "incomplete message")                               \
	X(ECONFIG, -5004, "bad configuration")                               \
	X(EKEY, -5005, "unusable key")                                       \
	X(EAUTH, -5006, "authentication failed")                             \
	X(ENOHOST, -5007, "unknown host")                                    \
	X(EHOSTDOWN, -5008, "host down")                                     \
	X(ENODAEMON, -5009, "no daemon running")                             \
	X(ENOCWD, -5010, "working directory missing on the host")            \
	X(ELINK, -5011, "link to the host lost")                             \
	X(ETOOBIG, -5012, "message too large")                               \
	X(EFULL, -5013, "no free slot on the host")                     \
	X(EUNSAFE, -5014, "runtime folder or daemon not the user's own")    \
	X(EBUSY, -5015, "the host's owner is using it")                      \
	X(ESELF, -5016, "name resolves to this host")

enum mig_error {
#define MIG__ENUM(name, value, text) MIG_##name = (value),
	MIG_ERRNO_MAP(MIG__ENUM)
#undef MIG__ENUM
};

#define MIG__ERR(e) (-(e))

/* Returns a static string for any code this header defines, or errno's. */
const char *mig_strerror(int code);

/*
 * Directories. Each returns 0 and writes a NUL-terminated path into buf,
 * or MIG_ETOOBIG when it does not fit.
 *   config:  $MIG_CONFIG_DIR, else $XDG_CONFIG_HOME/mig, else ~/.config/mig
 *   runtime: $MIG_RUNTIME_DIR, else $XDG_RUNTIME_DIR/mig, else
 *            /run/user/$UID/mig when /run/user/$UID is a folder of the
 *            user's that nobody else may write to, else /tmp/mig-$UID
 */
int mig_config_dir(char *buf, size_t size);
int mig_runtime_dir(char *buf, size_t size);
/* Joins dir and name into buf; MIG_ETOOBIG when it does not fit. */
int mig_path(char *buf, size_t size, const char *dir, const char *name);

/*
 * Connects to the local daemon's control socket and returns the fd in
 * *fdp. With autostart set, a daemon that is not running is started
 * first (mig-homed from the directory of the running executable, else
 * from PATH). Before anything is sent, the socket's folder must be the
 * user's own (mode 0700, no symlink) and the daemon must run as the
 * user (SO_PEERCRED): else MIG_EUNSAFE, with a sentence naming the
 * folder and what is wrong in err (errsize bytes). Returns 0,
 * MIG_ENODAEMON, MIG_EUNSAFE, or a system error.
 */
int mig_connect(int *fdp, int autostart, char *err, size_t errsize);
/* Connects to the daemon at the socket path sock, with the same checks. */
int mig_connect_at(const char *sock, int *fdp, char *err, size_t errsize);

#endif
