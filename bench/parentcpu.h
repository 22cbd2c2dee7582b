/* The CPU time a driver's parent has used, for the benchmark's supervisor CPU per decision:
 * under `execguard run -c` and the floor, the supervisor is the driver's parent. Read from
 * /proc/PPID/schedstat, the scheduler's own count in ns (steadier than wall time on a noisy
 * machine, finer than the clock ticks of /proc/PID/stat); the supervisors are one thread.
 * A driver reads it before and after its loop and writes the difference. */
#pragma once

#include <stdio.h>
#include <unistd.h>

/* The parent's CPU time so far in ns, or -1 if it cannot be read. */
static inline long long parent_cpu_ns(void) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/schedstat", (int) getppid());
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        long long ns = -1;
        if (fscanf(f, "%lld", &ns) != 1)
                ns = -1;
        fclose(f);
        return ns;
}

/* The parent's CPU time from before (parent_cpu_ns()) to now, or -1. */
static inline long long parent_cpu_since(long long before) {
        long long now = parent_cpu_ns();
        return before < 0 || now < 0 ? -1 : now - before;
}
