/*
 * proto.h: mig's wire format.
 *
 * A frame is a 12-byte little-endian header followed by its payload:
 *
 *   u32 length   payload bytes, at most MIG_FRAME_MAX
 *   u16 type     enum mig_msg
 *   u16 flags    per type (for stream frames: the fd, 0, 1 or 2)
 *   u32 stream   the job the frame belongs to (0 on a stub's connection)
 *
 * Every type travels one way, so a frame's type alone says which role
 * of a daemon handles it.
 *
 * Payloads are flat: little-endian integers, byte strings as u32 length
 * plus bytes, string vectors as u32 count plus strings. The same frames
 * travel between a stub and its daemon (plain, over the unix socket) and
 * between daemons (inside AEAD records, see homed/crypto.c).
 */
#ifndef MIG_PROTO_H
#define MIG_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The protocols a link may speak: from MIG_PROTO_MIN to MIG_PROTO_VERSION
 * (6: 5, and an answer to a change in a folder carries the folder's
 * attributes; 5: 4, and the handshake says which versions each side
 * speaks, and each side's first frame, BUILD, which build it is; 4:
 * FS_PRIME; 3: ephemeral keys). Two daemons speak the highest both
 * know, and refuse each other only when they have none in common. The
 * control socket (stub <-> its own daemon, one build) speaks
 * MIG_PROTO_VERSION alone.
 */
#define MIG_PROTO_VERSION 6
#define MIG_PROTO_MIN 4
#define MIG_FRAME_HDR 12
#define MIG_FRAME_MAX (1u << 20)
/* Stream bytes in flight before the reader of a stream stops reading. */
#define MIG_WINDOW (4u << 20)
/* Largest data payload a reader puts in one frame. */
#define MIG_CHUNK (256u << 10)

enum mig_msg {
	MIG_M_HELLO = 1, /* u32 version, then per side (see homed/peer.c) */
	MIG_M_AUTH,      /* peer handshake: the initiator's proof */
	MIG_M_RUN,       /* stub -> daemon: a job (struct mig_job) */
	MIG_M_EXEC,      /* home -> host: a job (struct mig_job) */
	MIG_M_LOCAL,     /* daemon -> stub: run it yourself */
	MIG_M_STARTED,   /* host -> home -> stub: i32 remote pid, str host */
	MIG_M_OUTPUT,    /* host -> home -> stub: the job's output; flags = fd
			  * (1 or 2) */
	MIG_M_OUTPUT_EOF, /* host -> home -> stub: end of output fd flags */
	MIG_M_INPUT_ACK, /* host -> home -> stub: u32 stdin bytes written */
	MIG_M_INPUT_CLOSE, /* host -> home -> stub: the job closed its stdin */
	MIG_M_SIGNAL,    /* u32 signal number, for the job; with flags 1,
			  * then i32 host pid: for that process of it */
	MIG_M_KILL,      /* home -> host: the stub is gone, kill the job */
	MIG_M_EXIT,      /* u32 exit code, u32 signal (0: exited normally) */
	MIG_M_ERROR,     /* i32 mig error code, str message; in a handshake
			  * (a refusal) then u32 lowest and u32 highest
			  * protocol, str release of the refusing side */
	MIG_M_PING,      /* u64 sender's monotonic ns, u64 its realtime ns */
	MIG_M_PONG,      /* PING's payload, then u64 the answerer's realtime */
	MIG_M_LOAD,      /* host -> peers: u32 slots, u32 running, u32 load
			  * average x100, u32 free memory MiB */
	MIG_M_HOSTS,     /* stub <-> daemon: the host table (mig hosts) */
	MIG_M_PS,        /* stub <-> daemon: the placed jobs (mig ps) */
	MIG_M_HISTORY,   /* stub <-> daemon: run times by program (mig policy) */
	MIG_M_CALL,      /* a forwarded call: u32 seq, u32 call (calls.def),
			  * u32 count, that many i64 arguments */
	MIG_M_CALLRET,   /* u32 seq, i64 result, i32 errno */
	MIG_M_HOLD,      /* a home pid for a process the job started:
			  * u32 seq, i32 host pid, str what it runs */
	MIG_M_HOLDRET,   /* u32 seq, i32 home pid (negative: -errno) */
	MIG_M_GONE,      /* host -> home: i32 home pid whose process ended */
	MIG_M_STANDIN,   /* placeholder -> daemon: i32 its pid; then
			  * HOLD_SIGNAL */
	MIG_M_INPUT,     /* stub -> home -> host: stdin bytes for the job */
	MIG_M_INPUT_EOF, /* stub -> home -> host: end of stdin */
	MIG_M_OUTPUT_ACK, /* stub -> home -> host: u32 bytes of output fd
			   * flags written out */
	MIG_M_OUTPUT_CLOSE, /* stub -> home -> host: nobody reads output fd
			     * flags any more */
	MIG_M_HOLD_SIGNAL, /* placeholder -> daemon: u32 a signal it got */
	MIG_M_WINSIZE,   /* stub -> home -> host: u16 rows, u16 columns of
			  * the terminal (MIG_JOB_TTY) */
	MIG_M_FS_REQ,    /* host -> home: a request of the served view; flags =
			  * op (MIG_FS_*, homed/fs/fs.h), stream = its number */
	MIG_M_FS_REP,    /* home -> host: the answer to FS_REQ number stream:
			  * i32 errno (0: done), then per op */
	MIG_M_FS_MODE,   /* host -> peers, at link up: u32 MIG_FILES_* of its
			  * hosts file line, u32 1 if it can serve views,
			  * str why not */
	MIG_M_FS_PRIME,  /* home -> host, just before EXEC: what the job's
			  * program used in its recent runs, as it is now
			  * (homed/fs/fs.h); stream = the job */
	MIG_M_OWNER,     /* stub <-> daemon: u32 MIG_OWNER_*, str host
			  * (drain, undrain); answered with an empty OWNER */
	MIG_M_BUSY,      /* host -> peers: u32 1 while its owner uses it (it
			  * takes nothing new), str why */
	MIG_M_FS_MOUNTS, /* home -> host, at link up: str boot id, u32 n, n x
			  * (str mount point, u64 st_dev, u64 st_ino) */
	MIG_M_FS_PROVEN, /* host -> home, once it has MOUNTS: u32 1 if its
			  * own files are home's, u32 n, n x str proven mount
			  * point, u32 m, m x str the others and its own
			  * mounts that shadow home's */
	MIG_M_FS_TALLY,  /* host -> home, before a job's EXIT when they
			  * changed: u64 bytes of home's files fetched into
			  * the view's cache, u64 bytes seeded from the
			  * host's own files instead, since the view began */
	MIG_M_BUILD,     /* between daemons, at link up, protocol 5 and later
			  * only: str the sender's release and build id, as
			  * mig --version says them ("0.2.0 (git 1a2b3c4)") */
	MIG_M__COUNT
};

/* What an OWNER request asks of the daemon. */
#define MIG_OWNER_DRAIN 1     /* home: place nothing more on host */
#define MIG_OWNER_UNDRAIN 2   /* home: place on host again */
#define MIG_OWNER_EVICT 3     /* this host: turn busy now */
#define MIG_OWNER_EVICT_END 4 /* this host: available again */

struct mig_frame {
	uint32_t len;
	uint16_t type;
	uint16_t flags;
	uint32_t stream;
	const uint8_t *payload; /* points into the decoded buffer */
};

/*
 * Decodes the frame at the start of p[0..avail). Returns 0 with *f filled
 * when the whole frame is there, MIG_EAGAIN when more bytes are needed,
 * MIG_EPROTO for an unknown type or MIG_ETOOBIG for a length over
 * MIG_FRAME_MAX (both known from the header alone).
 */
int mig_frame_decode(const uint8_t *p, size_t avail, struct mig_frame *f);

/* A growable byte buffer; zero-initialise, then free with mig_buf_free. */
struct mig_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

int mig_buf_reserve(struct mig_buf *b, size_t more);
int mig_buf_append(struct mig_buf *b, const void *p, size_t n);
/* Drops the first n bytes. */
void mig_buf_consume(struct mig_buf *b, size_t n);
void mig_buf_free(struct mig_buf *b);

/*
 * Frame building: begin writes a header with length 0 and returns its
 * offset in *at; the proto_put_* calls append payload; end fixes the
 * length, or returns MIG_ETOOBIG (and drops the frame) past MIG_FRAME_MAX.
 */
int mig_frame_begin(struct mig_buf *b, uint16_t type, uint16_t flags,
    uint32_t stream, size_t *at);
int mig_frame_end(struct mig_buf *b, size_t at);
/* A whole frame in one call: header plus n payload bytes. */
int mig_frame_put(struct mig_buf *b, uint16_t type, uint16_t flags,
    uint32_t stream, const void *payload, size_t n);

int proto_put_u16(struct mig_buf *b, uint16_t v);
int proto_put_u32(struct mig_buf *b, uint32_t v);
int proto_put_u64(struct mig_buf *b, uint64_t v);
int proto_put_bytes(struct mig_buf *b, const void *p, size_t n);
int proto_put_str(struct mig_buf *b, const char *s);
/* A NULL-terminated vector of strings. */
int proto_put_strv(struct mig_buf *b, char *const *v);

/* A reader over one payload; every get returns 0 or MIG_EPROTO. */
struct mig_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

void proto_rd_init(struct mig_rd *r, const uint8_t *p, size_t len);
int proto_get_u16(struct mig_rd *r, uint16_t *v);
int proto_get_u32(struct mig_rd *r, uint32_t *v);
int proto_get_u64(struct mig_rd *r, uint64_t *v);
/* *p points into the payload; it is not NUL-terminated. */
int proto_get_bytes(struct mig_rd *r, const uint8_t **p, size_t *n);
/* Fails on a string holding a NUL byte. Returns a malloc'd copy in *s. */
int proto_get_str(struct mig_rd *r, char **s);
/* Returns a malloc'd NULL-terminated vector of malloc'd strings. */
int proto_get_strv(struct mig_rd *r, char ***v);
/* 0 when every byte of the payload was read, else MIG_EPROTO. */
int proto_rd_done(const struct mig_rd *r);
void mig_strv_free(char **v);

/* The forwarded calls, numbered in the order of calls.def. */
enum mig_call {
#define MIG_CALL(name, ...) MIG_CALL_##name,
#include "mig/calls.def"
#undef MIG_CALL
	MIG_CALL__COUNT
};
#define MIG_CALL_MAXARGS 6

#define MIG_JOB_NRLIMIT 16

/* A job request: what RUN and EXEC carry. */
struct mig_job {
	char *host;     /* wanted host; "" lets the daemon place it */
	uint32_t flags; /* MIG_JOB_* */
	char **argv;
	char **envp;
	char *cwd;
	uint32_t umask;
	uint32_t nrlimit;
	struct {
		uint32_t resource;
		uint64_t cur, max;
	} rlimit[MIG_JOB_NRLIMIT];
	int32_t pid, ppid, pgid, sid; /* the stub's identity at home */
	char *nodename;               /* home uname() names */
	char *domainname;
	int32_t nice;                 /* the stub's nice value */
	uint32_t sched;               /* its scheduling policy (SCHED_*) */
	uint16_t ws_row, ws_col;      /* MIG_JOB_TTY: the terminal's size */
};

#define MIG_JOB_NOSTDIN 0x1 /* the job reads EOF (mig -n) */
#define MIG_JOB_PLACE 0x2   /* placed by policy: the daemon picks the host */
#define MIG_JOB_RESTART 0x4 /* may run again elsewhere if its host is lost */
#define MIG_JOB_TTY 0x8     /* stdio on a pty on the host (mig -t) */
#define MIG_JOB_ISATTY0 0x10 /* fd 0 is a terminal at home; 0x20 fd 1,
			      * 0x40 fd 2 */
#define MIG_JOB_SSH 0x80    /* mig-rsh, as ssh: starts in home's $HOME,
			     * with the host's identity; what detached
			     * from it may outlive it */

/* Appends a whole RUN or EXEC frame for job. */
int mig_x_job(struct mig_buf *b, uint16_t type, uint32_t stream,
    const struct mig_job *job);
/* Decodes a job payload into *jobp (owned by the caller, free with
 * mig_job_free). argv must hold at least one string. */
int mig_r_job(const uint8_t *p, size_t len, struct mig_job **jobp);
void mig_job_free(struct mig_job *job);

#endif
