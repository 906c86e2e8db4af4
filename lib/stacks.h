/* Goroutine stacks as roots: every goroutine's frames, the local variables
 * and parameters DWARF places in them, and the rest of each live stack as
 * plain words for a conservative scan.
 *
 * Goroutines come from runtime.allgs; the layouts of runtime.g, gobuf,
 * stack and m come from DWARF.  A parked goroutine starts from g.sched, one
 * in a system call from g.syscallsp/pc, a running one from the registers of
 * the thread whose m.procid matches (NT_PRSTATUS, or the stopped thread of
 * a live process).  Frames are unwound with the CFA tables of .debug_frame
 * (SP-relative, exact even in prologues and frameless leaves), falling back
 * to the frame-pointer chain for code .debug_frame does not describe; where
 * a return address is (on the stack, or in arm64's link register) is the
 * architecture's (arch.h).
 * Everything read from the target is untrusted: frames stay inside the
 * goroutine's stack and strictly increase, and every count is bounded. */
#ifndef MAPSCAN_STACKS_H
#define MAPSCAN_STACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "goruntime.h"
#include "target.h"
#include "types.h"

struct gframe {
	uint64_t goid;            /* the goroutine's id (g.goid) */
	const char *func;         /* function of this frame, e.g. "main.worker"; "?" if unknown */
	const struct gfunc *fn;   /* the same from the type model; NULL if unknown */
	uint64_t pc;              /* pc in this frame, as in the target (the return address
				   * for outer frames); 0 for a conservative-only span */
	uint64_t sp, cfa;         /* the frame occupies [sp, cfa) */
	unsigned depth;           /* 0 = innermost frame */
};

/* A local variable or parameter of frame f whose whole value DWARF places
 * in stack memory at this pc: [addr, addr + size of type).  name is as in
 * DWARF; "&x" means x was moved to the heap and this slot holds *T.  A
 * parameter's slot may lie just above f->cfa (Go spills register arguments
 * into the caller's frame).  Called for variables of every type. */
typedef void (*stack_var_fn)(void *arg, const struct gframe *f, const char *name, type_id type,
			     uint64_t addr);

/* A non-zero, 8-aligned word of a goroutine's live stack ([sp, stack.hi))
 * that no precise variable covers, with its value already read.  f is the
 * frame holding it; when a stack could not be unwound, a span with func "?"
 * and pc 0 stands for the part that was not (up to the whole stack). */
typedef void (*stack_word_fn)(void *arg, const struct gframe *f, uint64_t addr, uint64_t value);

struct stacks_stats {
	uint64_t goroutines;          /* goroutines whose stacks were scanned */
	uint64_t frames;              /* frames unwound */
	uint64_t precise_vars;        /* var_fn calls */
	uint64_t conservative_words;  /* word_fn calls */
	uint64_t unwind_failures;     /* goroutines scanned (partly) conservatively */
	uint64_t unreadable;          /* goroutine records (allgs entries) that could not be read */
	uint64_t bad_stacks;          /* live goroutines whose stack bounds are impossible */
};

/* Walk every goroutine that is not dead.  Either callback may be NULL.
 * st (may be NULL) is filled in.  Returns 0, or -1 with err filled
 * (MS_ENOTGO) when the runtime's goroutine list cannot be found or read;
 * unreadable goroutines and unwind failures are counted, not errors. */
int stacks_scan(const struct target *t, const struct gtypes *g, const struct goruntime *rt,
		stack_var_fn var_fn, stack_word_fn word_fn, void *arg, struct stacks_stats *st,
		struct ms_error *err);

/* One goroutine's stack: [lo, hi). */
struct gstack {
	uint64_t lo, hi;
	uint64_t goid;
	uint64_t g;               /* the goroutine's runtime.g record */
};

/* The stacks of every goroutine that is not dead, sorted by lo and
 * disjoint, in a newly allocated array the caller frees.  Errors as
 * stacks_scan. */
int stacks_list(const struct target *t, const struct gtypes *g, struct gstack **out, size_t *n,
		struct ms_error *err);

#endif
