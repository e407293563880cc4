/*
 * prime.c: what a host is told just before a job's EXEC, when it may run
 * it in a served view (MIG_M_FS_PRIME): the paths the job's program used
 * in its recent runs (learn.c), each as it is now, with the hash when
 * this home knows that version's already. From then on that link's view
 * may ask (lanes.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"

/* What a PRIME may hold: an entry is at most a path, its attributes, a
 * hash and a link's target. */
#define PRIME_MAX (MIG_FRAME_MAX - 3 * PATH_MAX - 256)

/* One path of a PRIME, as it is now: 0, or ENOMEM. */
static int
put_prime(struct fs_home *h, struct mig_buf *b, const char *path, uid_t uid,
    gid_t gid)
{
	uint8_t key[MIG_HASH_BYTES];
	char target[PATH_MAX];
	struct stat st;
	uint32_t what = 0;
	ssize_t n = 0;

	if (proto_put_str(b, path) != 0)
		return ENOMEM;
	if (lstat(path, &st) == -1)
		return proto_put_u32(b, (uint32_t)errno) != 0 ? ENOMEM : 0;
	/* Only hashes already known: hashing here would stall placement. */
	if (S_ISREG(st.st_mode) && mig__hashdb_peek(h->db, &st, key) == 0)
		what |= MIG_FS_PRIME_HASH;
	if (S_ISLNK(st.st_mode) &&
	    (n = readlink(path, target, sizeof(target) - 1)) > 0)
		what |= MIG_FS_PRIME_TARGET;
	if (proto_put_u32(b, 0) != 0 ||
	    mig__fs_put_attr(b, &st, uid, gid) != 0 ||
	    proto_put_u32(b, what) != 0 ||
	    ((what & MIG_FS_PRIME_HASH) &&
	    proto_put_bytes(b, key, sizeof(key)) != 0) ||
	    ((what & MIG_FS_PRIME_TARGET) &&
	    proto_put_bytes(b, target, (size_t)n) != 0))
		return ENOMEM;
	return 0;
}

void
mig__fs_prime(struct homed *d, struct link *l, uint32_t id,
    const char *prog)
{
	struct fs_home *h = d->fs_home;
	struct mig_buf b = { NULL, 0, 0 };
	struct lane *ln;
	char *const *set;
	size_t n, at;
	uint32_t k = 0;
	uid_t uid = getuid();
	gid_t gid = getgid();

	/* From now on the link's view may ask (on_fs_req). */
	if ((ln = mig__lane_of(h, l)) != NULL)
		ln->placed = 1;
	if (!mig__fs_serves(h, l->peer))
		return;
	/* Sent even when empty: the host trusts nothing it learned before
	 * this job was placed. */
	set = mig__learn_set(d, prog, &n);
	if (proto_put_u32(&b, 0) != 0)
		goto out;
	for (size_t i = 0; i < n && b.len < PRIME_MAX; i++) {
		at = b.len;
		if (put_prime(h, &b, set[i], uid, gid) != 0) {
			b.len = at;
			break;
		}
		k++;
	}
	for (int i = 0; i < 4; i++)
		b.data[i] = (uint8_t)(k >> (8 * i));
	mig__link_send(l, MIG_M_FS_PRIME, 0, id, b.data, b.len);
 out:
	mig_buf_free(&b);
}
