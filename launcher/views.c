/* views.c: mig hosts, mig ps and mig policy, as tables or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launcher.h"
#include "mig/proto.h"

/* Asks the daemon one question and returns its answer's payload. */
static void
ask(uint16_t type, const void *p, size_t n, struct mig_buf *answer,
    struct mig_frame *f)
{
	struct mig_buf q = { NULL, 0, 0 };
	uint8_t v[4] = { MIG_PROTO_VERSION, 0, 0, 0 };
	int fd, r;

	fd = mig__reach(NULL, 1);
	if (mig_frame_put(&q, MIG_M_HELLO, 0, 0, v, sizeof(v)) != 0 ||
	    mig_frame_put(&q, type, 0, 0, p, n) != 0 ||
	    mig__write_full(fd, q.data, q.len) != 0)
		mig__fatal("cannot talk to the local mig-homed");
	mig_buf_free(&q);
	for (;;) {
		uint8_t hdr[MIG_FRAME_HDR];
		if (mig__read_full(fd, hdr, sizeof(hdr)) != 0)
			mig__fatal("the local mig-homed hung up");
		answer->len = 0;
		if (mig_buf_append(answer, hdr, sizeof(hdr)) != 0)
			mig__fatal("out of memory");
		r = mig_frame_decode(hdr, sizeof(hdr), f);
		if (r != 0 && r != MIG_EAGAIN)
			mig__fatal("malformed answer from the daemon");
		if (mig_buf_reserve(answer, f->len) != 0 ||
		    mig__read_full(fd, answer->data + MIG_FRAME_HDR, f->len) != 0)
			mig__fatal("the local mig-homed hung up");
		answer->len += f->len;
		mig_frame_decode(answer->data, answer->len, f);
		if (f->type == type)
			break;
		if (f->type == MIG_M_ERROR) {
			struct mig_rd rd;
			uint32_t code;
			char *msg = NULL;
			proto_rd_init(&rd, f->payload, f->len);
			if (proto_get_u32(&rd, &code) != 0 ||
			    proto_get_str(&rd, &msg) != 0)
				mig__fatal("the daemon refused the question");
			mig__fatal("%s", msg);
		}
	}
	mig__close(fd);
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
need(int r)
{
	if (r != 0)
		mig__fatal("malformed answer from the daemon");
}

/* One row of the HOSTS view; the strings are the caller's to free
 * (host_row_free). */
struct host_row {
	char *name, *addr, *state, *files;
	char *proven, *unproven;        /* mount points, one a line */
	char *why;                      /* why it is not up, or "" */
	char *owner;                    /* its owner's activity */
	char *version;                  /* its daemon's release and build,
	                                 * "protocol 4" where its link does
	                                 * not say, "" without a link */
	uint32_t slots, running, load, rtt, done;
	uint32_t protocol;              /* its link's, 0 without one */
	uint32_t evictions, freezes;    /* jobs of ours run again, frozen */
	uint64_t sent, received;        /* bytes on the wire, to and from it */
	uint64_t fs_reqs, fs_req_bytes; /* served view: its requests */
	uint64_t fs_rep_bytes;          /* and home's answers */
	uint64_t fetched, seeded;       /* its views' bytes of home's files:
	                                 * fetched, and seeded from its own */
};

static void
host_row_read(struct mig_rd *rd, struct host_row *h)
{
	need(proto_get_str(rd, &h->name));
	need(proto_get_str(rd, &h->addr));
	need(proto_get_str(rd, &h->state));
	need(proto_get_u32(rd, &h->slots));
	need(proto_get_u32(rd, &h->running));
	need(proto_get_u32(rd, &h->load));
	need(proto_get_u32(rd, &h->rtt));
	need(proto_get_u32(rd, &h->done));
	need(proto_get_str(rd, &h->files));
	need(proto_get_u64(rd, &h->sent));
	need(proto_get_u64(rd, &h->received));
	need(proto_get_u64(rd, &h->fs_reqs));
	need(proto_get_u64(rd, &h->fs_req_bytes));
	need(proto_get_u64(rd, &h->fs_rep_bytes));
	need(proto_get_str(rd, &h->proven));
	need(proto_get_str(rd, &h->unproven));
	need(proto_get_u64(rd, &h->fetched));
	need(proto_get_u64(rd, &h->seeded));
	need(proto_get_str(rd, &h->why));
	need(proto_get_u32(rd, &h->protocol));
	need(proto_get_str(rd, &h->owner));
	need(proto_get_u32(rd, &h->evictions));
	need(proto_get_u32(rd, &h->freezes));
	need(proto_get_str(rd, &h->version));
}

/* n bytes, short: "812", "12K", "1.9M", "3.2G". */
static void
human(uint64_t n, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%llu", (unsigned long long)n);
	else
		snprintf(buf, size, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

static void
host_row_free(struct host_row *h)
{
	free(h->name);
	free(h->addr);
	free(h->state);
	free(h->files);
	free(h->proven);
	free(h->unproven);
	free(h->why);
	free(h->owner);
	free(h->version);
}

/* Lines as a JSON array of strings. */
static void
json_lines(const char *lines)
{
	char *copy = strdup(lines), *save = NULL, *l;
	int first = 1;

	if (copy == NULL)
		mig__fatal("out of memory");
	putchar('[');
	for (l = strtok_r(copy, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		if (!first)
			putchar(',');
		json_str(l);
		first = 0;
	}
	putchar(']');
	free(copy);
}

static void
hosts(int json)
{
	struct mig_buf a = { NULL, 0, 0 };
	struct host_row *rows;
	char *config = NULL;
	struct mig_frame f;
	struct mig_rd rd;
	uint32_t n;

	ask(MIG_M_HOSTS, NULL, 0, &a, &f);
	proto_rd_init(&rd, f.payload, f.len);
	need(proto_get_u32(&rd, &n));
	rows = calloc(n, sizeof(*rows));
	if (n > 0 && rows == NULL)
		mig__fatal("out of memory");
	for (uint32_t i = 0; i < n; i++)
		host_row_read(&rd, &rows[i]);
	need(proto_get_str(&rd, &config));
	if (json)
		printf("[");
	else if (*config != '\0')
		printf("mig: warning: %s\n", config);
	if (!json)
		printf("%-16s %-22s %-10s %5s %5s %6s %8s %6s %5s  %-20s %7s %7s"
		    "  %-20s  %s  %s\n", "HOST", "ADDRESS", "STATE", "USED",
		    "SLOTS", "LOAD", "RTT(us)", "DONE", "EVICT", "OWNER",
		    "FETCHED", "SEEDED", "VERSION", "FILES", "WHY");
	for (uint32_t i = 0; i < n; i++) {
		struct host_row h = rows[i];
		if (json) {
			printf("%s{\"host\":", i ? "," : "");
			json_str(h.name);
			printf(",\"address\":");
			json_str(h.addr);
			printf(",\"state\":");
			json_str(h.state);
			printf(",\"slots_used\":%u,\"slots\":%u,\"load\":%.2f,"
			       "\"rtt_us\":%u,\"jobs_done\":%u,\"files\":",
			    h.running, h.slots, h.load / 100.0, h.rtt, h.done);
			json_str(h.files);
			printf(",\"sent_bytes\":%llu,\"received_bytes\":%llu,"
			       "\"fs_requests\":%llu,\"fs_request_bytes\":%llu,"
			       "\"fs_answer_bytes\":%llu",
			    (unsigned long long)h.sent,
			    (unsigned long long)h.received,
			    (unsigned long long)h.fs_reqs,
			    (unsigned long long)h.fs_req_bytes,
			    (unsigned long long)h.fs_rep_bytes);
			printf(",\"proven\":");
			json_lines(h.proven);
			printf(",\"not_proven\":");
			json_lines(h.unproven);
			printf(",\"fetched_bytes\":%llu,\"seeded_bytes\":%llu",
			    (unsigned long long)h.fetched,
			    (unsigned long long)h.seeded);
			printf(",\"why\":");
			json_str(h.why);
			printf(",\"protocol\":%u", h.protocol);
			printf(",\"owner\":");
			json_str(h.owner);
			printf(",\"evictions\":%u,\"freezes\":%u", h.evictions,
			    h.freezes);
			printf(",\"version\":");
			json_str(h.version);
			/* The home row carries what is the daemon's own. */
			if (i == 0) {
				printf(",\"config_error\":");
				json_str(config);
			}
			printf("}");
		} else {
			char fetched[16], seeded[16];
			human(h.fetched, fetched, sizeof(fetched));
			human(h.seeded, seeded, sizeof(seeded));
			printf("%-16s %-22s %-10s %5u %5u %6.2f %8u %6u %5u  %-20s"
			    " %7s %7s  %-20s  %s%s%s\n", h.name, h.addr, h.state,
			    h.running, h.slots, h.load / 100.0, h.rtt, h.done,
			    h.evictions + h.freezes, h.owner[0] != '\0' ?
			    h.owner : "-", fetched, seeded, h.version[0] != '\0' ?
			    h.version : "-", h.files, *h.why != '\0' ? "  " : "",
			    h.why);
		}
		host_row_free(&h);
	}
	if (json)
		printf("]\n");
	free(rows);
	free(config);
	mig_buf_free(&a);
}

/* Whether path is m or below it. */
static int
under(const char *path, const char *m, size_t n)
{
	if (n == 1 && m[0] == '/')
		return path[0] == '/';
	return strncmp(path, m, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The innermost of the mount points in lines (one a line) holding path:
 * its length, 0 when none does. */
static size_t
innermost(const char *path, const char *lines)
{
	size_t best = 0, n;

	for (const char *l = lines; *l != '\0'; l += n + (l[n] == '\n')) {
		n = strcspn(l, "\n");
		if (n > 0 && n >= best && under(path, l, n))
			best = n;
	}
	return best;
}

/*
 * Whether a host can take a build's jobs from cwd. One that cannot serve
 * home's files ("proven only", or "unavailable" where its hosts file says
 * served: fs/serve.c's words) takes only jobs in files it proved home's:
 * cwd's innermost mount point must be a proven one.
 */
static int
takes(const struct host_row *h, const char *cwd)
{
	size_t p;

	if (strncmp(h->files, "unavailable", 11) == 0)
		return 0;
	if (strncmp(h->files, "proven only", 11) != 0)
		return 1;
	p = innermost(cwd, h->proven);
	return p > 0 && p > innermost(cwd, h->unproven);
}

void
mig__cluster_slots(const char *cwd, uint32_t *slots, uint32_t *up,
    uint32_t *left)
{
	struct mig_buf a = { NULL, 0, 0 };
	struct mig_frame f;
	struct mig_rd rd;
	uint32_t n;

	*slots = *up = *left = 0;
	ask(MIG_M_HOSTS, NULL, 0, &a, &f);
	proto_rd_init(&rd, f.payload, f.len);
	need(proto_get_u32(&rd, &n));
	for (uint32_t i = 0; i < n; i++) {
		struct host_row h;
		host_row_read(&rd, &h);
		if (strcmp(h.state, "home") != 0 && strcmp(h.state, "up") != 0)
			;
		else if (strcmp(h.state, "home") != 0 && !takes(&h, cwd))
			(*left)++;
		else {
			*slots += h.slots;
			(*up)++;
		}
		host_row_free(&h);
	}
	mig_buf_free(&a);
}

/* mig ps [--json] [--recent N]: the jobs now, and the last N that ended,
 * each with where it runs and why. */
static void
ps(int json, uint32_t recent)
{
	struct mig_buf a = { NULL, 0, 0 };
	struct mig_frame f;
	struct mig_rd rd;
	uint32_t n, pid, rpid;
	uint64_t ms, fetched, seeded;
	char *host, *state, *why, *files, *cmd, bytes[40], fs[16], ss[16];
	uint8_t q[4];

	for (int i = 0; i < 4; i++)
		q[i] = (uint8_t)(recent >> (8 * i));
	ask(MIG_M_PS, q, sizeof(q), &a, &f);
	proto_rd_init(&rd, f.payload, f.len);
	need(proto_get_u32(&rd, &n));
	if (json)
		printf("[");
	else
		printf("%8s %-16s %8s %9s %-11s %-9s %-40s %-24s %s\n", "PID",
		    "HOST", "RPID", "ELAPSED", "FETCH/SEED", "STATE", "WHY",
		    "FILES", "COMMAND");
	for (uint32_t i = 0; i < n; i++) {
		need(proto_get_u32(&rd, &pid));
		need(proto_get_str(&rd, &host));
		need(proto_get_u32(&rd, &rpid));
		need(proto_get_u64(&rd, &ms));
		need(proto_get_str(&rd, &state));
		need(proto_get_str(&rd, &why));
		need(proto_get_str(&rd, &files));
		need(proto_get_str(&rd, &cmd));
		need(proto_get_u64(&rd, &fetched));
		need(proto_get_u64(&rd, &seeded));
		if (json) {
			printf("%s{\"pid\":%u,\"host\":", i ? "," : "", pid);
			json_str(host);
			printf(",\"remote_pid\":%u,\"elapsed_ms\":%llu,"
			       "\"state\":", rpid, (unsigned long long)ms);
			json_str(state);
			printf(",\"why\":");
			json_str(why);
			printf(",\"files\":");
			json_str(files);
			printf(",\"command\":");
			json_str(cmd);
			printf(",\"fetched_bytes\":%llu,\"seeded_bytes\":%llu}",
			    (unsigned long long)fetched,
			    (unsigned long long)seeded);
		} else {
			human(fetched, fs, sizeof(fs));
			human(seeded, ss, sizeof(ss));
			snprintf(bytes, sizeof(bytes), "%s/%s", fs, ss);
			printf("%8u %-16s %8u %8.1fs %-11s %-9s %-40s %-24s %s\n",
			    pid, host, rpid, ms / 1000.0,
			    strncmp(files, "served", 6) == 0 ? bytes : "-", state,
			    why, files, cmd);
		}
		free(host);
		free(state);
		free(why);
		free(files);
		free(cmd);
	}
	if (json)
		printf("]\n");
	mig_buf_free(&a);
}

static void
policy(int json)
{
	struct mig_buf a = { NULL, 0, 0 };
	struct mig_frame f;
	struct mig_rd rd;
	char pol[4096], *prog;
	uint32_t n, runs, med, placed, still, threshold;

	mig__policy(pol, sizeof(pol));
	ask(MIG_M_HISTORY, NULL, 0, &a, &f);
	proto_rd_init(&rd, f.payload, f.len);
	need(proto_get_u32(&rd, &n));
	if (json) {
		printf("{\"patterns\":[");
		for (char *p = strtok(pol, ":"), *sep = ""; p != NULL;
		     p = strtok(NULL, ":"), sep = ",") {
			printf("%s", sep);
			json_str(p + (*p == '='));
		}
		printf("],\"history\":[");
	} else {
		printf("placed programs (patterns; yours first, marked =): "
		    "%s\n\n", pol);
		/* The median is over a window of the last runs; the placed
		 * count is over all runs, so it can be larger. */
		printf("%-24s %9s %10s %13s %s\n", "PROGRAM", "LAST RUNS",
		    "MEDIAN(ms)", "PLACED SO FAR", "VERDICT");
	}
	for (uint32_t i = 0; i < n; i++) {
		need(proto_get_str(&rd, &prog));
		need(proto_get_u32(&rd, &runs));
		need(proto_get_u32(&rd, &med));
		need(proto_get_u32(&rd, &placed));
		need(proto_get_u32(&rd, &still));
		if (json) {
			printf("%s{\"program\":", i ? "," : "");
			json_str(prog);
			printf(",\"runs\":%u,\"median_ms\":%u,\"placed\":%u,"
			       "\"still_placed\":%s}", runs, med, placed,
			    still ? "true" : "false");
		} else {
			printf("%-24s %9u %10u %13u %s\n", prog, runs, med,
			    placed, still ? "placed" : "too short: runs here");
		}
		free(prog);
	}
	need(proto_get_u32(&rd, &threshold));
	if (json)
		printf("],\"short_run_ms\":%u}\n", threshold);
	else
		printf("\nLAST RUNS: the runs the median is taken over (the "
		    "latest ones, up to a window);\nPLACED SO FAR: runs placed "
		    "on another host, kept across restarts of the daemon.\n"
		    "Programs whose median run is under %u ms run here.\n",
		    threshold);
	mig_buf_free(&a);
}

int
mig__view_main(int argc, char **argv)
{
	int json = 0, is_ps = strcmp(argv[0], "ps") == 0;
	uint32_t recent = 0;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: mig %s [--json]%s\n", argv[0],
		    is_ps ? " [--recent N]" : "");
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		char *end;
		long v;
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (is_ps && strcmp(argv[i], "--recent") == 0 &&
		    i + 1 < argc && (v = strtol(argv[i + 1], &end, 10)) >= 0 &&
		    *end == '\0' && end != argv[i + 1]) {
			recent = v > 100000 ? 100000 : (uint32_t)v;
			i++;
		} else {
			mig__fatal("usage: mig %s [--json]%s", argv[0],
			    is_ps ? " [--recent N]" : "");
		}
	}
	if (strcmp(argv[0], "hosts") == 0)
		hosts(json);
	else if (is_ps)
		ps(json, recent);
	else
		policy(json);
	return 0;
}

void
mig__ask(uint16_t type, const void *p, size_t n, struct mig_buf *answer,
    struct mig_frame *f)
{
	ask(type, p, n, answer, f);
}
