/* Finding the file whose DWARF describes the image, and checking another
 * build's layout against the image (see debugfile.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debugfile.h"
#include "elffile.h"
#include "pclntab.h"

#define DEFAULT_DEBUG_DIRS "/usr/lib/debug"
#define MAX_TYPES_CHECKED 4096
#define MAX_MASK_BITS (1u << 28)

const char *debugfile_found_by_name(enum debug_found_by f)
{
	switch (f) {
	case DEBUG_EXECUTABLE:   return "executable";
	case DEBUG_EXE_OPTION:   return "--exe";
	case DEBUG_FILE_OPTION:  return "--debug-file";
	case DEBUG_LINK:         return ".gnu_debuglink";
	case DEBUG_BUILD_ID_DIR: return "build-id";
	}
	return "?";
}

void debugfile_choice_free(struct debug_choice *c)
{
	if (!c)
		return;
	free(c->path);
	c->path = NULL;
}

/* What the image is known by: its own build IDs, or when its memory does
 * not hold them, those of the executable that matched it. */
static const struct build_ids *image_ids(const struct target *t)
{
	const struct build_ids *ids = target_build_ids(t);

	return ids ? ids : elffile_build_ids(target_exe_file(t));
}

/* Has file f the code of the executable serving the image?  For files
 * without comparable build IDs. */
static bool same_code(const struct target *t, const struct elffile *f)
{
	const struct elf_section *a = elffile_section(target_exe_file(t), ".text"),
		*b = elffile_section(f, ".text");

	return a && b && a->data && b->data && a->addr == b->addr && a->size == b->size &&
	       !memcmp(a->data, b->data, a->size);
}

/* Classify the file at path for the image.  0 with c filled, 1 when the
 * file is not usable (why in *why), -1 when it cannot be opened (err). */
static int consider(const struct target *t, const char *path, enum debug_found_by by,
		    struct debug_choice *c, char *why, size_t nwhy, struct ms_error *err)
{
	struct elffile *f = elffile_open(path, err);
	int r = 1;

	if (!f)
		return -1;
	if (!elffile_has_dwarf(f)) {
		snprintf(why, nwhy, "it has no DWARF");
		goto out;
	}
	int same = build_ids_same(image_ids(t), elffile_build_ids(f));
	if (same < 0)
		same = elffile_has_code(f) && same_code(t, f);
	if (!(c->path = strdup(path))) {
		r = ms_err(err, MS_EINTERNAL, "out of memory");
		goto out;
	}
	c->found_by = by;
	c->match = same && !target_exe_other_build(t) ? DEBUG_SAME_BUILD : DEBUG_OTHER_BUILD;
	r = 0;
out:
	elffile_close(f);
	return r;
}

/* A debug file found by name must be the image's build: another one in
 * the debug directories is stale, not a candidate. */
static bool found_file(const struct target *t, const char *path, enum debug_found_by by,
		       const uint32_t *crc, struct debug_choice *c)
{
	struct ms_error e;
	struct elffile *f = elffile_open(path, &e);
	bool ok = false;

	if (!f)
		return false;
	if (elffile_has_dwarf(f) && (!crc || elffile_crc32(f) == *crc) &&
	    build_ids_same(image_ids(t), elffile_build_ids(f)) != 0 &&
	    (c->path = strdup(path))) {
		c->found_by = by;
		c->match = target_exe_other_build(t) ? DEBUG_OTHER_BUILD : DEBUG_SAME_BUILD;
		ok = true;
	}
	elffile_close(f);
	return ok;
}

static void looked(struct debug_choice *c, const char *what)
{
	size_t n = strlen(c->looked);

	snprintf(c->looked + n, sizeof c->looked - n, "%s%s", n ? ", " : "", what);
}

/* The directory holding the executable (absolute), for .gnu_debuglink. */
static bool exe_dir(const struct target *t, char *out, size_t n)
{
	const char *name = target_pid(t) ? target_exe_name(t) : target_exe_path(t);
	char buf[PATH_MAX], real[PATH_MAX];
	size_t len = strlen(name);
	const char *del = " (deleted)";

	if (len >= sizeof buf)
		return false;
	memcpy(buf, name, len + 1);
	if (len > strlen(del) && !strcmp(buf + len - strlen(del), del))
		buf[len - strlen(del)] = 0;
	char *slash = strrchr(buf, '/');
	if (slash == buf)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		snprintf(buf, sizeof buf, ".");
	if (!realpath(buf, real))
		return false;
	return snprintf(out, n, "%s", real) < (int)n;
}

/* Each directory of MAPSCAN_DEBUG_DIR (colon-separated; default
 * /usr/lib/debug), in turn, into dir; false after the last. */
static bool next_debug_dir(const char **cursor, char *dir, size_t n)
{
	const char *p = *cursor;

	while (p && *p == ':')
		p++;
	if (!p || !*p)
		return false;
	const char *end = strchr(p, ':');
	size_t len = end ? (size_t)(end - p) : strlen(p);
	if (len >= n)
		len = n - 1;
	memcpy(dir, p, len);
	dir[len] = 0;
	*cursor = end;
	return true;
}

static const char *debug_dirs(void)
{
	const char *e = getenv("MAPSCAN_DEBUG_DIR");

	return e && *e ? e : DEFAULT_DEBUG_DIRS;
}

static bool by_debuglink(const struct target *t, struct debug_choice *c)
{
	const struct elffile *exe = target_exe_file(t);
	const char *name, *cur;
	uint32_t crc;
	char dir[PATH_MAX], root[PATH_MAX], path[PATH_MAX * 2 + 64];

	if (elffile_debuglink(exe, &name, &crc) < 0 || !exe_dir(t, dir, sizeof dir))
		return false;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (strcmp(path, target_exe_path(t)) && found_file(t, path, DEBUG_LINK, &crc, c))
		return true;
	snprintf(path, sizeof path, "%s/.debug/%s", dir, name);
	if (found_file(t, path, DEBUG_LINK, &crc, c))
		return true;
	for (cur = debug_dirs(); next_debug_dir(&cur, root, sizeof root);) {
		snprintf(path, sizeof path, "%s%s/%s", root, dir, name);
		if (found_file(t, path, DEBUG_LINK, &crc, c))
			return true;
	}
	snprintf(path, sizeof path, ".gnu_debuglink %s (in %s, %s/.debug, %s)", name, dir, dir,
		 debug_dirs());
	looked(c, path);
	return false;
}

static bool by_build_id(const struct target *t, struct debug_choice *c)
{
	const struct build_ids *ids = image_ids(t);
	char hex[2 * sizeof ids->gnu + 1], root[PATH_MAX], path[PATH_MAX + 200];
	const char *cur;

	if (ids->gnu_len < 2)
		return false;
	build_ids_gnu_hex(ids, hex);
	for (cur = debug_dirs(); next_debug_dir(&cur, root, sizeof root);) {
		snprintf(path, sizeof path, "%s/.build-id/%.2s/%s.debug", root, hex, hex + 2);
		if (found_file(t, path, DEBUG_BUILD_ID_DIR, NULL, c))
			return true;
		looked(c, path);
	}
	return false;
}

int debugfile_find(const struct target *t, const char *debug_file, struct debug_choice *c,
		   struct ms_error *err)
{
	const struct elffile *exe = target_exe_file(t);
	const char *cand = target_exe_candidate(t);
	char why[128];
	int r;

	memset(c, 0, sizeof *c);
	if (debug_file) {
		r = consider(t, debug_file, DEBUG_FILE_OPTION, c, why, sizeof why, err);
		if (r > 0)
			return ms_err(err, MS_ENODWARF, "%s: %s; pass a debug file or an unstripped "
				      "build of the program with --debug-file", debug_file, why);
		return r;
	}
	if (cand) {
		r = consider(t, cand, DEBUG_EXE_OPTION, c, why, sizeof why, err);
		if (r > 0)
			return ms_err(err, MS_ENODWARF, "%s: %s, and it is not the build the %s ran; "
				      "pass an unstripped build with --exe, or its debug file with "
				      "--debug-file", cand, why, target_pid(t) ? "process" : "core");
		return r;
	}
	if (elffile_has_dwarf(exe)) {
		if (!(c->path = strdup(target_exe_path(t))))
			return ms_err(err, MS_EINTERNAL, "out of memory");
		c->found_by = DEBUG_EXECUTABLE;
		c->match = target_exe_other_build(t) ? DEBUG_OTHER_BUILD : DEBUG_SAME_BUILD;
		return 0;
	}
	looked(c, "the executable (no DWARF)");
	if (by_debuglink(t, c) || by_build_id(t, c))
		return 0;
	return 0;
}

/* ---- another build's layout ---------------------------------------------- */

long debugfile_gcprog(const unsigned char *prog, size_t n, unsigned char *out, size_t nbits)
{
	size_t pc = 0, bits = 0;

	memset(out, 0, (nbits + 7) / 8);
	for (;;) {
		if (pc >= n)
			return -1;
		unsigned inst = prog[pc++];
		uint64_t k = inst & 0x7f;
		if (!(inst & 0x80)) {
			if (!k)
				return (long)bits;
			/* k literal bits from the next (k+7)/8 bytes. */
			if ((k + 7) / 8 > n - pc || k > nbits - bits)
				return -1;
			for (uint64_t i = 0; i < k; i++, bits++)
				if (prog[pc + i / 8] >> (i % 8) & 1)
					out[bits / 8] |= (unsigned char)(1u << (bits % 8));
			pc += (k + 7) / 8;
			continue;
		}
		/* Repeat the previous k bits c times; k = 0: k is a varint. */
		uint64_t cnt = 0;
		for (int pass = k ? 1 : 0; pass < 2; pass++) {
			uint64_t v = 0;
			for (unsigned sh = 0;; sh += 7) {
				if (pc >= n || sh > 56)
					return -1;
				unsigned b = prog[pc++];
				v |= (uint64_t)(b & 0x7f) << sh;
				if (!(b & 0x80))
					break;
			}
			if (pass == 0)
				k = v;
			else
				cnt = v;
		}
		if (!k || k > bits || (cnt && k > (nbits - bits) / cnt))
			return -1;
		for (uint64_t i = 0; i < k * cnt; i++, bits++)
			if (out[(bits - k) / 8] >> ((bits - k) % 8) & 1)
				out[bits / 8] |= (unsigned char)(1u << (bits % 8));
	}
}

struct verify {
	const struct target *t;
	const struct gtypes *g;
	struct elffile *f;
	const char *path;
	const char *where;       /* "core" or "process" */
	uint64_t md, bias;       /* runtime.firstmoduledata: link-time address, load bias */
	int64_t shift;           /* the image's data lies this far from the file's */
	type_id mdtype;
	struct ms_error *err;
};

static int differs(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int differs(struct verify *v, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return ms_err(v->err, MS_EMISMATCH,
		      "%s: another build of the program, and its layout differs from the %s's (%s); pass the exact build the %s ran with --exe, or its debug file with --debug-file",
		      v->path, v->where, what, v->where);
}

/* A word of runtime.firstmoduledata, from the image and from the file. */
static int md_field(struct verify *v, const char *name, uint64_t *img, uint64_t *file,
		    bool *have)
{
	const struct gmember *m = gtypes_member(v->g, v->mdtype, name);
	unsigned char b[8];

	*have = false;
	if (!m)
		return 0;
	uint64_t at = v->md + (uint64_t)v->shift + v->bias + m->offset;
	if (target_read_u64(v->t, at, img))
		return differs(v, "runtime.firstmoduledata at 0x%" PRIx64 " is not in the %s",
			       at - m->offset, v->where);
	if (elffile_read(v->f, v->md + m->offset, b, 8))
		return differs(v, "its runtime.firstmoduledata at 0x%" PRIx64 " is not in the file",
			       v->md);
	*file = le64(b);
	*have = true;
	return 0;
}

/* Where the image's runtime.firstmoduledata is: where the file's DWARF
 * says, or -- when the build settings in .go.buildinfo changed length and
 * moved every data section after it -- a little further on.  Found by the
 * bounds that cannot move: its code's and its type descriptors'. */
static int find_shift(struct verify *v)
{
	enum { WINDOW = 1 << 16 };
	const struct gmember *tx = gtypes_member(v->g, v->mdtype, "text"),
		*ty = gtypes_member(v->g, v->mdtype, "types"),
		*et = gtypes_member(v->g, v->mdtype, "etext");
	unsigned char b[8];
	uint64_t want[3];
	const struct gmember *ms[3] = { tx, ty, et };
	uint64_t best = 0;
	bool found = false;

	for (int i = 0; i < 3; i++) {
		if (!ms[i] || elffile_read(v->f, v->md + ms[i]->offset, b, 8))
			return differs(v, "its runtime.firstmoduledata is not in the file");
		want[i] = le64(b) + v->bias;
	}
	uint64_t lo = v->md > WINDOW ? v->md - WINDOW : 0, hi = v->md + WINDOW;
	for (uint64_t x = lo; x < hi; x += 8) {
		uint64_t w;
		bool ok = true;
		for (int i = 0; i < 3 && ok; i++)
			ok = !target_read_u64(v->t, x + v->bias + ms[i]->offset, &w) && w == want[i];
		uint64_t d = x > v->md ? x - v->md : v->md - x;
		if (ok && (!found || d < (best > v->md ? best - v->md : v->md - best))) {
			best = x;
			found = true;
		}
	}
	if (!found)
		return differs(v, "the %s holds no runtime.firstmoduledata with its code and type "
			       "descriptor bounds near 0x%" PRIx64, v->where, v->md + v->bias);
	v->shift = (int64_t)(best - v->md);
	return 0;
}

static int check_moduledata(struct verify *v)
{
	/* The bounds of the module's code and data and the start of its type
	 * descriptors: what DWARF addresses and runtime type offsets are
	 * relative to.  Code and types must be where the file has them; the
	 * data sections may all lie v->shift further on (see find_shift).
	 * Not etypes: strings at the end of the types section (the build
	 * settings) move it, and the descriptors DWARF refers to are checked
	 * one by one instead. */
	static const struct { const char *name; bool data; } fields[] = {
		{ "text", false }, { "etext", false }, { "minpc", false }, { "maxpc", false },
		{ "types", false }, { "noptrdata", true }, { "enoptrdata", true }, { "data", true },
		{ "edata", true }, { "bss", true }, { "ebss", true }, { "noptrbss", true },
		{ "enoptrbss", true }, { "end", true },
	};
	uint64_t a, b;
	bool have;
	unsigned n = 0;

	if (find_shift(v))
		return -1;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (md_field(v, fields[i].name, &a, &b, &have))
			return -1;
		if (!have)
			continue;
		n++;
		uint64_t want = b + (fields[i].data ? (uint64_t)v->shift : 0);
		if (a - v->bias != want)
			return differs(v, "runtime.firstmoduledata.%s is 0x%" PRIx64 " in the %s, 0x%"
				       PRIx64 " in the file%s", fields[i].name, a - v->bias, v->where, b,
				       fields[i].data && v->shift ? " (other data moved)" : "");
	}
	if (n < 8)
		return differs(v, "its runtime.moduledata has not the fields mapscan compares");
	return 0;
}

/* The image's pointer mask of data or bss (built by the runtime from the
 * GC program at start-up) against the file's GC program. */
static int check_mask(struct verify *v, const char *mask, const char *prog, const char *lo,
		      const char *hi, const char *section)
{
	const struct gmember *mm = gtypes_member(v->g, v->mdtype, mask);
	uint64_t pa, pf, la, lf, ha, hf, bytedata;
	bool h1, h2, h3;
	unsigned char hdr[16];

	if (!mm || md_field(v, prog, &pa, &pf, &h1) || md_field(v, lo, &la, &lf, &h2) ||
	    md_field(v, hi, &ha, &hf, &h3))
		return -1;
	if (!h1 || !h2 || !h3 || hf < lf)
		return differs(v, "its runtime.moduledata has no %s", mask);
	/* bitvector {n int32; bytedata *uint8} */
	if (target_read(v->t, v->md + (uint64_t)v->shift + v->bias + mm->offset, hdr, sizeof hdr))
		return differs(v, "runtime.firstmoduledata.%s is not in the %s", mask, v->where);
	uint64_t nbits = le32(hdr), words = (hf - lf) / 8;
	bytedata = le64(hdr + 8);
	if (nbits > MAX_MASK_BITS || nbits < words || nbits > words + 64)
		return differs(v, "runtime.firstmoduledata.%s holds %" PRIu64 " bits for %" PRIu64
			       " words of %s", mask, nbits, words, section);
	size_t nb = (size_t)(nbits + 7) / 8;
	/* A literal costs a byte per 7 bits at worst; repeats are shorter. */
	size_t plen = (size_t)nbits / 7 + 4096;
	unsigned char *img = malloc(nb ? nb : 1), *file = malloc(nb ? nb : 1),
		      *progbuf = malloc(plen);
	int r = 0;
	if (!img || !file || !progbuf) {
		r = ms_err(v->err, MS_EINTERNAL, "out of memory");
		goto out;
	}
	if (nb && target_read(v->t, bytedata, img, nb)) {
		/* The core lacks the runtime's copy: nothing to compare with. */
		r = differs(v, "the %s does not hold the pointer mask of %s", v->where, section);
		goto out;
	}
	while (plen && elffile_read(v->f, pf, progbuf, plen))
		plen /= 2;
	long got = plen ? debugfile_gcprog(progbuf, plen, file, (size_t)nbits) : -1;
	if (got < 0 || (uint64_t)got < words) {
		r = differs(v, "its pointer mask of %s cannot be decoded", section);
		goto out;
	}
	for (uint64_t i = 0; i < words; i++) {
		if (((img[i / 8] ^ file[i / 8]) >> (i % 8)) & 1) {
			r = differs(v, "the pointer layout of %s differs at 0x%" PRIx64, section,
				    lf + 8 * i);
			goto out;
		}
	}
out:
	free(img);
	free(file);
	free(progbuf);
	return r;
}

/* A Go type name mapscan can compare with a descriptor's: a map type, or
 * a named type (pkg.Name); DWARF spells other composite types its own way. */
static bool comparable_name(const struct gtype *t)
{
	const char *n = t->name;

	if (t->kind == GK_MAP)
		return n[0] != 0;
	if (!strchr(n, '.') || t->kind == GK_BASE)
		return false;
	for (; *n; n++)
		if (!(*n == '.' || *n == '_' || *n == '/' || (*n >= '0' && *n <= '9') ||
		      (*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z')))
			return false;
	return true;
}

/* A type name without its package qualifiers ("map[string]*main.Session"
 * is "map[string]*Session"): DWARF qualifies by import path
 * ("encoding/json/v2.Marshaler"), the runtime by package name
 * ("json.Marshaler"), and the two cannot be told from one another. */
static size_t unqualified(const char *n, size_t len, char *out, size_t max)
{
	size_t k = 0, run = 0;

	for (size_t i = 0; i < len && k + 1 < max; i++) {
		char c = n[i];
		if (c == '.') {
			k = run;          /* drop the qualifier up to here */
			continue;
		}
		if (!(c == '_' || c == '-' || c == '/' || (c >= '0' && c <= '9') ||
		      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			run = k + 1;      /* a word starts after this character */
		out[k++] = c;
	}
	out[k] = 0;
	return k;
}

/* Where the file's DWARF says a type's descriptor is, the image must have
 * a descriptor of that name (and for a map, of kind map). */
static int check_type_descriptors(struct verify *v)
{
	const struct gmember *tm = gtypes_member(v->g, v->mdtype, "types");
	uint64_t types;
	unsigned checked = 0;

	if (!tm || target_read_u64(v->t, v->md + (uint64_t)v->shift + v->bias + tm->offset, &types))
		return differs(v, "runtime.firstmoduledata.types is not in the %s", v->where);
	for (type_id id = 1; id <= gtypes_count(v->g) && checked < MAX_TYPES_CHECKED; id++) {
		const struct gtype *t = gtypes_get(v->g, id);
		unsigned char d[48], nm[2 + 256];
		if (!t || !t->runtime_type || !comparable_name(t))
			continue;
		checked++;
		/* abi.Type: TFlag @20, Kind_ @23, Str (nameOff) @40 on amd64;
		 * a name is a flag byte, a length (one byte below 128), the
		 * bytes, with a '*' in front when TFlagExtraStar (2) says so. */
		uint64_t at = types + t->runtime_type;
		if (target_read(v->t, at, d, sizeof d))
			return differs(v, "no type descriptor of %s at 0x%" PRIx64, t->name, at);
		uint64_t name = types + le32(d + 40);
		char want[128], got[128];
		size_t wl = unqualified(t->name, strlen(t->name), want, sizeof want);
		bool extra_star = d[20] & 2;
		size_t gl = 0;
		/* The name: a flag byte, a length, the bytes; a '*' in front
		 * when TFlagExtraStar (2) says so.  Lengths up to 127 are one
		 * byte; longer names are not compared. */
		if (target_read(v->t, name, nm, 2) || nm[1] >= 0x80)
			continue;
		if (nm[1] <= extra_star || target_read(v->t, name + 2, nm + 2, nm[1]))
			return differs(v, "no type name for %s at 0x%" PRIx64, t->name, at);
		gl = unqualified((char *)nm + 2 + extra_star, nm[1] - extra_star, got, sizeof got);
		if ((t->kind == GK_MAP && (d[23] & 0x1f) != 21) || wl != gl || memcmp(want, got, wl))
			return differs(v, "the type descriptor at 0x%" PRIx64 " is not %s", at,
				       t->name);
	}
	return 0;
}

/* Where the file's DWARF has a function, the image's function table has
 * one of that name with that entry. */
static int check_functions(struct verify *v)
{
	uint64_t hdr, text, fhdr, ftext;
	bool h1, h2;
	struct ms_error e;
	size_t n;

	if (md_field(v, "pcHeader", &hdr, &fhdr, &h1) || md_field(v, "text", &text, &ftext, &h2))
		return -1;
	if (!h1 || !h2)
		return differs(v, "its runtime.moduledata has no pcHeader");
	struct pclntab *p = pclntab_open(v->t, hdr, text, &e);
	if (!p)
		return differs(v, "the %s's function table cannot be read: %s", v->where, e.msg);
	const struct gfunc *f = gtypes_funcs(v->g, &n);
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		if (!f[i].name[0])
			continue;
		const struct pcfunc *pf = pclntab_func_at(p, f[i].lowpc + v->bias);
		/* Go 1.19's table spells array lengths in names "[...]". */
		if (!pf || pf->entry != f[i].lowpc + v->bias ||
		    (strcmp(pf->name, f[i].name) && !strstr(pf->name, "[...]")))
			r = differs(v, "its function %s at 0x%" PRIx64 " is %s in the %s", f[i].name,
				    f[i].lowpc, pf ? pf->name : "no function", v->where);
	}
	pclntab_free(p);
	return r;
}

int debugfile_verify(const struct target *t, const struct gtypes *g, struct debug_choice *c,
		     struct ms_error *err)
{
	struct ms_error e;
	struct verify v = { .t = t, .g = g, .path = c->path,
			    .where = target_pid(t) ? "process" : "core", .bias = target_exe_bias(t),
			    .err = err };
	const struct gvar *md = gtypes_var(g, "runtime.firstmoduledata");
	int r;

	if (c->match != DEBUG_OTHER_BUILD || c->verified)
		return 0;
	if (!md)
		return differs(&v, "its DWARF has no runtime.firstmoduledata");
	v.md = md->addr;
	v.mdtype = gtypes_resolve(g, md->type);
	if (!(v.f = elffile_open(c->path, &e)))
		return ms_err(err, e.code, "%s", e.msg);
	if (!elffile_has_code(v.f))
		r = differs(&v, "it is a debug file of another build");
	else
		r = check_moduledata(&v);
	if (!r)
		r = check_mask(&v, "gcdatamask", "gcdata", "data", "edata", ".data");
	if (!r)
		r = check_mask(&v, "gcbssmask", "gcbss", "bss", "ebss", ".bss");
	if (!r)
		r = check_type_descriptors(&v);
	if (!r)
		r = check_functions(&v);
	if (!r && v.shift) {
		/* Everything after .go.buildinfo moved with it. */
		const struct elf_section *bi = elffile_section(v.f, ".go.buildinfo");
		c->data_shift = v.shift;
		c->data_lo = bi ? bi->addr + bi->size : 0;
		uint64_t img_end, file_end;
		bool have;
		c->data_hi = !md_field(&v, "end", &img_end, &file_end, &have) && have ? file_end
										 : UINT64_MAX;
	}
	elffile_close(v.f);
	if (!r)
		c->verified = true;
	return r;
}
