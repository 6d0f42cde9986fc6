/* bench_machine.h - the machine and command lines every benchmark report starts with. */
#ifndef NQBA_BENCH_MACHINE_H
#define NQBA_BENCH_MACHINE_H

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static inline void bench_machine(char *buf, size_t cap)
{
    char model[256] = "unknown CPU", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = 0;
            break;
        }
    if (f)
        fclose(f);
    struct utsname u;
    uname(&u);
    snprintf(buf, cap, "%s, %ld online cores, Linux %s", model, sysconf(_SC_NPROCESSORS_ONLN),
             u.release);
}

/* The command line as it will appear in the report, without --out (where
 * the report goes is not part of what it measured). */
static inline void bench_cmdline(char *buf, size_t cap, const char *prog, int argc, char **argv)
{
    snprintf(buf, cap, "%s", prog);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out")) {
            i++;
            continue;
        }
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, " %s", argv[i]);
    }
}

#endif
