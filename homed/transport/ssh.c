/*
 * ssh.c: links over ssh. A hosts line "NAME ssh:DEST" makes home keep one
 * ssh process to DEST (stdio.c runs it; the link runs over its stdin and
 * stdout). ssh runs a short sh script there that looks for home's own
 * build in the host user's cache, ~/.cache/mig/VERSION-HASH, HASH naming
 * the bytes of the build (bundle.c), so two builds never share a folder:
 *
 *   host -> home   "mig-push ARCH\n"      the folder is missing
 *   home -> host   "SIZE\n", SIZE bytes   of a tar of home's build, when
 *                                         ARCH is this machine's
 *   host -> home   "mig-ready\n"          then it runs that mig-homed
 *                                         --stdio (handover.c)
 *
 * and the plain handshake follows (stdio.c). Lines before these (a
 * login script's chatter) are skipped. The push lands in a folder of its
 * own and is renamed into place whole, so a host has several versions
 * side by side, none half-written, and nothing needs root. A link that
 * fails is dialed again after a wait that doubles, 1 s to a minute, and
 * starts again at 1 s once a link was up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "homed.h"

#define MIG_SSH_BOOT_MS 60000   /* ssh's log-in and a push of the build */
#define MIG_SSH_BACKOFF_MS 1000
#define MIG_SSH_BACKOFF_MAX_MS 60000

/* No single quote, no '!' (csh), no newline: any login shell passes it
 * to sh as it is. */
static const char boot_script[] =
    "d=\"${XDG_CACHE_HOME:-$HOME/.cache}/mig/$1\"; t=\"$d.part$$\"; "
    "if test -x \"$d/bin/mig-homed\"; then :; else "
    "echo \"mig-push $(uname -m)\"; read n; "
    "test \"$n\" -gt 0 2>/dev/null || exit 1; "
    "mkdir -p \"$t\" && head -c \"$n\" | tar -xf - -C \"$t\" || "
    "{ rm -rf \"$t\"; exit 1; }; "
    "mv -T \"$t\" \"$d\" 2>/dev/null || rm -rf \"$t\"; fi; "
    "echo mig-ready; exec \"$d/bin/mig-homed\" --stdio";

static void
on_boot_late(uv_timer_t *t)
{
	struct link *l = t->data;

	if (l->err_line[0] != '\0')
		mig__link_fail(l, MIG_EHOSTDOWN, "no answer within %u s (it "
		    "said: %s)", l->deadline / 1000, l->err_line);
	else
		mig__link_fail(l, MIG_EHOSTDOWN, "no answer within %u s",
		    l->deadline / 1000);
}

/* Why p is not dialed: its WHY, said in the log when it changes (the
 * tick asks again every second). */
static void
not_dialed(struct peer *p, int code, const char *why)
{
	if (strcmp(p->last_why, why) == 0)
		return;
	mig__log(MIG_LOG_WARN, "link %s (ssh:%s): %s", p->name, p->addr, why);
	strlcpy(p->last_why, why, sizeof(p->last_why));
	p->last_error = code;
}

void
mig__ssh_dial(struct peer *p)
{
	struct homed *d = p->d;
	char cmd[sizeof(boot_script) + 128], err[128];
	struct mig_ssh_argv a;
	const char *dir, *why;
	struct link *l;

	if (uv_now(d->loop) < p->next_dial)
		return;
	if ((dir = mig__bundle_dir(d, &why)) == NULL) {
		if (why != NULL)
			not_dialed(p, MIG_ELINK, why);
		return;
	}
	snprintf(cmd, sizeof(cmd), "sh -c '%s' mig-boot %s", boot_script, dir);
	if (mig__ssh_argv(getenv("MIG_SSH"), p->addr, cmd, &a, err,
	    sizeof(err)) != 0) {
		not_dialed(p, MIG_ECONFIG, err);
		return;
	}
	if (mig__stdio_spawn(p, a.argv, LINK_BOOT, &l) != 0 || l == NULL)
		return;
	snprintf(l->desc, sizeof(l->desc), "%s (ssh:%s)", p->name, p->addr);
	l->deadline = MIG_SSH_BOOT_MS;
	uv_timer_start(&l->timer, on_boot_late, l->deadline, 0);
}

/* "mig-push ARCH": the build goes if ARCH is ours. */
static void
push(struct link *l, const char *arch)
{
	const struct mig_buf *tar = mig__bundle_tar(l->d);
	struct utsname u;
	char size[32];

	uname(&u);
	if (strcmp(arch, u.machine) != 0) {
		mig__link_write(l, "no\n", 3);
		mig__link_fail(l, MIG_EHOSTDOWN, "it has no mig of this build, "
		    "and it is %s, this build %s: install mig there", arch,
		    u.machine);
		return;
	}
	mig__log(MIG_LOG_INFO, "link %s: pushing this build (%s, %zu bytes) "
	    "to its ~/.cache/mig", l->desc, mig__bundle_dir(l->d, NULL),
	    tar->len);
	snprintf(size, sizeof(size), "%zu\n", tar->len);
	if (mig__link_write(l, size, strlen(size)) == 0)
		mig__link_write(l, tar->data, tar->len);
}

size_t
mig__ssh_boot_read(struct link *l)
{
	size_t off = 0;
	uint8_t *nl;

	while (l->state == LINK_BOOT && (nl = memchr(l->in.data + off, '\n',
	    l->in.len - off)) != NULL) {
		char line[160];
		size_t n = (size_t)(nl - (l->in.data + off));

		snprintf(line, sizeof(line), "%.*s", (int)n,
		    (const char *)l->in.data + off);
		off += n + 1;
		if (strncmp(line, "mig-push ", 9) == 0) {
			push(l, line + 9);
		} else if (strcmp(line, "mig-ready") == 0) {
			uv_timer_stop(&l->timer);
			l->deadline = MIG_HANDSHAKE_MS;
			uv_timer_start(&l->timer, on_boot_late, l->deadline, 0);
			mig__stdio_hello(l);
		} else {
			mig__log(MIG_LOG_DEBUG, "link %s: skipped: %s",
			    l->desc, line);
		}
	}
	if (l->state == LINK_BOOT && l->in.len - off > 4096)
		mig__link_fail(l, MIG_EPROTO, "its ssh said no line of mig's");
	return off;
}

void
mig__ssh_backoff(struct peer *p, int was_up)
{
	if (was_up || p->backoff_ms == 0)
		p->backoff_ms = MIG_SSH_BACKOFF_MS;
	p->next_dial = uv_now(p->d->loop) + p->backoff_ms;
	if (p->backoff_ms < MIG_SSH_BACKOFF_MAX_MS)
		p->backoff_ms *= 2;
}
