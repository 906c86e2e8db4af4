/* The types model of a Go binary that has no DWARF anywhere (built with
 * -ldflags=-s -w, or stripped with no debug file to be found), built from
 * what every Go binary keeps for its own runtime:
 *
 *   - the runtime's structures (mheap, mspan, g, m, maps.Map, hmap,
 *     moduledata, the type descriptors' own types...) from the layout
 *     table of its Go version (lib/golayout.h), under their DWARF names;
 *   - every type descriptor in [moduledata.types, etypes): found through
 *     typelinks, itabs, the references between descriptors and by their
 *     shape, each made a type of the model with its Go name (package
 *     paths from the descriptors' uncommon data), members (struct fields),
 *     elements and DW_AT_go_runtime_type-like offset, and each map type
 *     given the header, bucket or table and group types DWARF would have;
 *   - functions and their frames from .gopclntab (lib/pclntab.h);
 *   - the few runtime variables mapscan reads, found without symbols
 *     (runtime.firstmoduledata from the pclntab header, mheap_, allgs and
 *     allm by their shape in bss, the size classes by their values);
 *   - every pointer word of data and bss (the runtime's own pointer masks)
 *     as an untyped variable named "global at 0x5a1230 (.bss)".
 *
 * The model is built through types_build.h and so checked like any other.
 * Everything read from the target is untrusted and bounded. */
#ifndef MAPSCAN_TYPEDESC_H
#define MAPSCAN_TYPEDESC_H

#include <stddef.h>

#include "error.h"
#include "target.h"
#include "types.h"

struct typedesc_info {
	char version[64];          /* from .go.buildinfo: "go1.24.11 X:noswissmap" */
	const char *layout;        /* the layout table variant used ("go1.24-noswissmap") */
	bool newer;                /* the Go version is newer than the table knows */
	size_t descriptors;        /* type descriptors made types */
	size_t functions;          /* from .gopclntab */
	size_t globals;            /* pointer words of data and bss */
	bool heap, goroutines;     /* runtime.mheap_ and runtime.allgs were found */
};

/* Build the model for the image t.  MS_ENOTGO when t holds no Go runtime
 * mapscan can read (no function table, no module data, a Go version
 * older than 1.19). */
struct gtypes *typedesc_load(const struct target *t, struct typedesc_info *info,
			     struct ms_error *err);

#endif
