/*
 * calls.c: running forwarded calls at home. Every line of calls.def
 * becomes a libffi call interface at start-up; a CALL frame names the
 * line and carries the arguments, and the answer carries the result and
 * errno. Adding a call is a line in calls.def.
 * This is the home half; host/desc.c relays the calls of a job's
 * processes to here.
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include <ffi.h>

#include "homed.h"

#define INT (&ffi_type_sint)
#define LONG (&ffi_type_slong)
#define NARGS(...) (sizeof((ffi_type *[]){ __VA_ARGS__ }) / sizeof(ffi_type *))

static struct call {
	const char *name;
	ffi_type *ret;
	unsigned nargs;
	ffi_type *args[MIG_CALL_MAXARGS];
	void (*fn)(void);
	ffi_cif cif;
	int ready;
} calls[] = {
#define MIG_CALL(name, ret, ...) \
	{ #name, ret, NARGS(__VA_ARGS__), { __VA_ARGS__ }, NULL, { 0 }, 0 },
#include "mig/calls.def"
#undef MIG_CALL
};

static void
init_calls(void)
{
	for (size_t i = 0; i < MIG_CALL__COUNT; i++) {
		struct call *c = &calls[i];
		c->fn = (void (*)(void))dlsym(RTLD_DEFAULT, c->name);
		c->ready = c->fn != NULL &&
		    ffi_prep_cif(&c->cif, FFI_DEFAULT_ABI, c->nargs, c->ret,
			c->args) == FFI_OK;
		if (!c->ready)
			mig__log(MIG_LOG_WARN, "forwarded call %s unavailable",
			    c->name);
	}
}

int
mig__call_run(const uint8_t *p, size_t len, uint32_t *seq, int64_t *ret,
    int *err)
{
	union {
		int i;
		long l;
	} v[MIG_CALL_MAXARGS];
	void *argp[MIG_CALL_MAXARGS];
	struct mig_rd rd;
	uint32_t id, n;
	ffi_arg r = 0;
	struct call *c;

	proto_rd_init(&rd, p, len);
	if (proto_get_u32(&rd, seq) != 0 || proto_get_u32(&rd, &id) != 0 ||
	    proto_get_u32(&rd, &n) != 0 || id >= MIG_CALL__COUNT)
		return MIG_EPROTO;
	c = &calls[id];
	if (n != c->nargs)
		return MIG_EPROTO;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a;
		if (proto_get_u64(&rd, &a) != 0)
			return MIG_EPROTO;
		if (c->args[i] == INT)
			v[i].i = (int)(int64_t)a;
		else
			v[i].l = (long)(int64_t)a;
		argp[i] = &v[i];
	}
	if (proto_rd_done(&rd) != 0)
		return MIG_EPROTO;
	if (!c->ready) {
		*ret = -1;
		*err = ENOSYS;
		return 0;
	}
	errno = 0;
	ffi_call(&c->cif, c->fn, &r, argp);
	*err = errno;
	*ret = c->ret == INT ? (int64_t)(int)r : (int64_t)(long)r;
	mig__log(MIG_LOG_DEBUG, "forwarded %s: %lld (errno %d)", c->name,
	    (long long)*ret, *err);
	return 0;
}

/*
 * A forwarded call acts only on the job's own home pids: the stub (the
 * placed process's home pid), the placeholders of its descendants, and
 * its home process group and session. Anything else is not the job's to
 * touch at home, whatever its host sends.
 */
static int
owns_target(struct job *j, const uint8_t *p, size_t len)
{
	struct mig_rd rd;
	uint32_t seq, id, n;
	uint64_t a;
	int64_t t;

	proto_rd_init(&rd, p, len);
	if (proto_get_u32(&rd, &seq) != 0 || proto_get_u32(&rd, &id) != 0 ||
	    proto_get_u32(&rd, &n) != 0 || n < 1 || proto_get_u64(&rd, &a) != 0)
		return 0;
	t = (int64_t)(int32_t)(uint32_t)a;
	if (id == MIG_CALL_killpg || (id == MIG_CALL_kill && t < 0)) {
		t = t < 0 ? -t : t;
		return t != 0 && (t == j->home_pgid || t == j->home_sid);
	}
	return t > 0 && (t == j->home_pid ||
	    mig__holds_has(j->d, j->id, (pid_t)t));
}

/* A CALL from the host running job f->stream. Only a job placed over
 * this very link may act at home, and only on what is its own. */
static void
on_call(struct link *l, const struct mig_frame *f)
{
	struct job *j = mig__job_find(l->d, f->stream);
	struct mig_buf b = { NULL, 0, 0 };
	struct mig_rd rd;
	uint32_t seq = 0;
	int64_t ret = -1;
	int err = ESRCH;

	proto_rd_init(&rd, f->payload, f->len);
	if (proto_get_u32(&rd, &seq) != 0) {
		mig__log(MIG_LOG_WARN, "link %s: malformed CALL", l->desc);
		return;
	}
	/* Every call numbered is answered, a malformed one too, so that
	 * nothing waits for it. */
	if (j != NULL && j->link == l && j->state == JOB_RUNNING &&
	    owns_target(j, f->payload, f->len) &&
	    mig__call_run(f->payload, f->len, &seq, &ret, &err) != 0) {
		mig__log(MIG_LOG_WARN, "link %s: malformed CALL", l->desc);
		ret = -1;
		err = EINVAL;
	}
	if (proto_put_u32(&b, seq) == 0 &&
	    proto_put_u64(&b, (uint64_t)ret) == 0 &&
	    proto_put_u32(&b, (uint32_t)err) == 0)
		mig__link_send(l, MIG_M_CALLRET, 0, f->stream, b.data, b.len);
	mig_buf_free(&b);
}

void
mig__calls_init(struct homed *d)
{
	init_calls();
	mig__on_link_frame(d, MIG_M_CALL, on_call);
}
