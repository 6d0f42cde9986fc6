/* bench_machine.h - the machine line every benchmark report starts with. */
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

#endif
