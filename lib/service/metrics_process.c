/* metrics_process.c - the process_* metrics of the Prometheus client
 * conventions: CPU seconds, resident and virtual memory, open and maximum
 * file descriptors, and the start time.
 *
 * This is the one place in the library that reads files: /proc/self/stat,
 * /proc/self/statm, /proc/stat and /proc/self/fd, at each scrape. The
 * service layer may do I/O (it sits above the pure units); the readings
 * are only reported, never used in a decision. Where /proc is missing (not
 * Linux, or a sandbox) the affected metrics are left out. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "nqba/clock.h"
#include "service_internal.h"

static int read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

static int memory_pages(long *vsize, long *rss)
{
    char buf[256];
    if (read_small("/proc/self/statm", buf, sizeof buf))
        return -1;
    return sscanf(buf, "%ld %ld", vsize, rss) == 2 ? 0 : -1;
}

/* Descriptors open now, not counting the one that lists them. */
static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;
}

static double boot_time(void)
{
    char buf[8192];
    if (read_small("/proc/stat", buf, sizeof buf))
        return -1;
    const char *p = strstr(buf, "\nbtime ");
    return p ? strtod(p + 7, NULL) : -1;
}

/* Field 22 of /proc/self/stat: start time in clock ticks after boot. The
 * command name (field 2) may hold spaces and parentheses, so fields are
 * counted from the last ')'. */
static double start_time(void)
{
    char buf[1024];
    if (read_small("/proc/self/stat", buf, sizeof buf))
        return -1;
    const char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    double boot = boot_time();
    long hz = sysconf(_SC_CLK_TCK);
    if (!p || boot < 0 || hz <= 0)
        return -1;
    return boot + strtod(p + 1, NULL) / (double)hz;
}

static void put(nq_buf *b, const char *name, const char *type, const char *help, double v)
{
    nq_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.15g\n", name, help, name, type, name, v);
}

void nq__metrics_process(nq_buf *b)
{
    put(b, "process_cpu_seconds_total", "counter", "Total user and system CPU time in seconds.",
        nq_clock_cpu_s());
    long vsize, rss, page = sysconf(_SC_PAGESIZE);
    if (!memory_pages(&vsize, &rss) && page > 0) {
        put(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
            (double)rss * (double)page);
        put(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
            (double)vsize * (double)page);
    }
    long fds = open_fds();
    if (fds >= 0)
        put(b, "process_open_fds", "gauge", "Number of open file descriptors.", (double)fds);
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
        put(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
            (double)rl.rlim_cur);
    double start = start_time();
    if (start >= 0)
        put(b, "process_start_time_seconds", "gauge",
            "Start time of the process since the Unix epoch in seconds.", start);
}
