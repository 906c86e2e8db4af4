/* How many CPUs this process may run on: its affinity mask (taskset, a
 * container's cpuset), else the CPUs online.  What mapscan splits between
 * threads or processes (the DWARF parse, map walks, typing candidates,
 * JSON writers) is split this many ways; with one, nothing is. */
#ifndef MAPSCAN_CPUS_H
#define MAPSCAN_CPUS_H

#include <sched.h>
#include <unistd.h>

static inline long ms_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

#endif
