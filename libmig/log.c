/* log.c: timestamped log lines for the daemon and the launcher. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

static const char *log_prog = "mig";
static int log_fd = 2;
static int log_level = MIG_LOG_INFO;

void
mig__log_init(const char *prog, int fd, int level)
{
	log_prog = prog;
	log_fd = fd;
	log_level = level;
}

void
mig__log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info",
		"debug" };
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s[%d] %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_prog,
	    (int)getpid(), names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	mig__write_full(log_fd, line, (size_t)n);
}

void
mig__die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("mig: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}
