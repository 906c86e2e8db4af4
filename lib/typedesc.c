/* The types model of a binary without DWARF (see typedesc.h). */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elffile.h"
#include "golayout.h"
#include "grow.h"
#include "pclntab.h"
#include "typedesc.h"
#include "types_build.h"
#include "wordset.h"

/* abi.Kind */
enum {
	K_BOOL = 1, K_INT, K_INT8, K_INT16, K_INT32, K_INT64, K_UINT, K_UINT8, K_UINT16, K_UINT32,
	K_UINT64, K_UINTPTR, K_FLOAT32, K_FLOAT64, K_COMPLEX64, K_COMPLEX128, K_ARRAY, K_CHAN,
	K_FUNC, K_IFACE, K_MAP, K_PTR, K_SLICE, K_STRING, K_STRUCT, K_UNSAFEPTR,
};

enum {
	TFLAG_UNCOMMON = 1, TFLAG_EXTRA_STAR = 2, TFLAG_NAMED = 4,
	NAME_EMBEDDED = 8,         /* abi.Name flag: an embedded field */
	MAX_TYPES_REGION = 1 << 28,
	MAX_NAME = 4096,
	MAX_FIELDS = 1 << 16,
	MAX_DESCS = 1 << 22,
	MAX_NAME_DEPTH = 24,
	MAX_CFA_ROWS = 4096,
	MAX_GLOBALS = 1 << 22,
	MAX_SCAN = 64 << 20,       /* bytes of data and bss searched for runtime variables */
};

/* Keys of the model's types (types_build.h): a descriptor by its address;
 * the types made for it (a map's header, buckets, tables) by a tag in the
 * top bits; the layout table's by index. */
#define KEY_TAG(tag, x) (((uint64_t)(tag) << 56) | (x))
enum {
	T_HASHPTR = 1, T_HASH, T_BUCKETPTR, T_DIRPTR, T_TABLEPTR, T_TABLE, T_GREF, T_GROUPPTR,
	T_PTRTO,                   /* a pointer to descriptor x nothing else provides */
	T_LAYOUT = 0x40,           /* the layout table's type x */
	T_BUILTIN = 0x50,
};
enum { B_UNSAFEPTR = 1, B_INT, B_UINT8, B_PTR_UINT8, B_HCHANPTR };

/* Offsets of the descriptors' fields, from the layout table. */
struct desc_layout {
	uint64_t type_size, size, ptrbytes, tflag, align, fieldalign, kind, str, ptrtothis;
	uint64_t ptr_size, ptr_elem;
	uint64_t slice_size, slice_elem;
	uint64_t array_size, array_elem, array_len;
	uint64_t chan_size, chan_elem, chan_dir;
	uint64_t func_size, func_in, func_out;
	uint64_t iface_size, iface_methods;
	uint64_t struct_size, struct_fields, field_size, field_name, field_typ, field_off;
	uint64_t map_size, map_key, map_elem, map_group;
	uint64_t uncommon_pkgpath;
	uint64_t itab_type;
	bool kind_flags;           /* up to Go 1.25 the kind byte has flags above 0x1f */
	bool swiss;
};

struct desc {
	uint64_t addr;
	uint8_t kind;
	bool bucket;               /* a classic map's bucket type: DWARF's member names */
	const char *name;          /* computed, owned by the arena below */
};

struct td {
	const struct target *t;
	struct golayout *L;
	struct gtb *b;
	struct ms_error *err;
	struct desc_layout D;
	uint64_t bias;
	uint64_t types, etypes, text, etext;
	unsigned char *tb;         /* [types, etypes), copied */
	struct desc *descs;        /* sorted by address once collected */
	size_t ndescs, capdescs;
	uint64_t *queue;
	size_t nqueue, capqueue;
	struct wordset seen;       /* descriptor addresses (nonzero) */
	char **strs;               /* names made here */
	size_t nstrs, capstrs;
	uint64_t md;               /* runtime.firstmoduledata (image address) */
	uint64_t budget;           /* candidates the search for runtime variables may still
				    * follow: a hostile core cannot make it run long */
	struct typedesc_info *info;
};

/* ---- small helpers ------------------------------------------------------ */

static const char *keep(struct td *T, char *s)
{
	if (!s || grow_array((void **)&T->strs, &T->capstrs, T->nstrs + 1, sizeof(*T->strs), 256)) {
		free(s);
		return NULL;
	}
	T->strs[T->nstrs++] = s;
	return s;
}

static bool in_types(const struct td *T, uint64_t a, uint64_t n)
{
	return a >= T->types && a <= T->etypes && n <= T->etypes - a;
}

/* Bytes of the types region, or NULL outside it. */
static const unsigned char *tp(const struct td *T, uint64_t a, uint64_t n)
{
	return in_types(T, a, n) ? T->tb + (a - T->types) : NULL;
}

static uint64_t t64(const struct td *T, uint64_t a)
{
	const unsigned char *p = tp(T, a, 8);
	return p ? le64(p) : 0;
}

/* Offset of the first of the named types' member path, or ~0. */
static uint64_t lay(const struct golayout *L, const char *const *types, const char *member)
{
	uint64_t off;
	for (; *types; types++)
		if (!golayout_offset(L, *types, member, &off, NULL))
			return off;
	return ~0ull;
}

static uint64_t lay_size(const struct golayout *L, const char *const *types)
{
	for (; *types; types++) {
		const struct gl_type *t = golayout_type(L, *types);
		if (t && !t->opaque)
			return t->size;
	}
	return 0;
}

#define N(...) ((const char *const[]){ __VA_ARGS__, NULL })

static int desc_layout_init(struct desc_layout *d, const struct golayout *L, int minor)
{
	const char *const *ty = N("internal/abi.Type", "runtime._type");
	d->type_size = lay_size(L, ty);
	d->size = lay(L, ty, "Size_") != ~0ull ? lay(L, ty, "Size_") : lay(L, ty, "size");
#define PICK(dst, types, a, b) do { d->dst = lay(L, types, a); if (d->dst == ~0ull) d->dst = lay(L, types, b); } while (0)
	PICK(ptrbytes, ty, "PtrBytes", "ptrdata");
	PICK(tflag, ty, "TFlag", "tflag");
	PICK(align, ty, "Align_", "align");
	PICK(fieldalign, ty, "FieldAlign_", "fieldAlign");
	PICK(kind, ty, "Kind_", "kind");
	PICK(str, ty, "Str", "str");
	PICK(ptrtothis, ty, "PtrToThis", "ptrToThis");
	const char *const *pt = N("internal/abi.PtrType", "runtime.ptrtype");
	d->ptr_size = lay_size(L, pt);
	PICK(ptr_elem, pt, "Elem", "elem");
	const char *const *sl = N("internal/abi.SliceType", "runtime.slicetype");
	d->slice_size = lay_size(L, sl);
	PICK(slice_elem, sl, "Elem", "elem");
	const char *const *ar = N("internal/abi.ArrayType", "runtime.arraytype");
	d->array_size = lay_size(L, ar);
	PICK(array_elem, ar, "Elem", "elem");
	PICK(array_len, ar, "Len", "len");
	const char *const *ch = N("internal/abi.ChanType", "runtime.chantype");
	d->chan_size = lay_size(L, ch);
	PICK(chan_elem, ch, "Elem", "elem");
	PICK(chan_dir, ch, "Dir", "dir");
	const char *const *fn = N("internal/abi.FuncType", "runtime.functype");
	d->func_size = lay_size(L, fn);
	PICK(func_in, fn, "InCount", "inCount");
	PICK(func_out, fn, "OutCount", "outCount");
	const char *const *it = N("internal/abi.InterfaceType", "runtime.interfacetype");
	d->iface_size = lay_size(L, it);
	PICK(iface_methods, it, "Methods", "mhdr");
	const char *const *st = N("internal/abi.StructType", "runtime.structtype");
	d->struct_size = lay_size(L, st);
	PICK(struct_fields, st, "Fields", "fields");
	const char *const *sf = N("internal/abi.StructField", "runtime.structfield");
	d->field_size = lay_size(L, sf);
	PICK(field_name, sf, "Name", "name");
	PICK(field_typ, sf, "Typ", "typ");
	PICK(field_off, sf, "Offset", "offset");
	const char *const *un = N("internal/abi.UncommonType", "runtime.uncommontype");
	PICK(uncommon_pkgpath, un, "PkgPath", "pkgpath");
	const char *const *itab = N("internal/abi.ITab", "runtime.itab");
	PICK(itab_type, itab, "Type", "_type");
	d->swiss = golayout_type(L, "internal/runtime/maps.Map") &&
		   !golayout_type(L, "runtime.hmap");
	const char *const *mt = d->swiss
		? N("internal/abi.MapType", "internal/abi.SwissMapType")
		: N("internal/abi.OldMapType", "internal/abi.MapType", "runtime.maptype");
	/* 1.24/1.25 noswissmap: abi.MapType is the Swiss one, OldMapType ours. */
	for (const char *const *m = mt; *m; m++) {
		uint64_t g = lay(L, N(*m), d->swiss ? "Group" : "Bucket");
		if (g == ~0ull)
			g = lay(L, N(*m), "bucket");
		if (g != ~0ull) {
			d->map_group = g;
			d->map_size = lay_size(L, N(*m));
			d->map_key = lay(L, N(*m), "Key") != ~0ull ? lay(L, N(*m), "Key") : lay(L, N(*m), "key");
			d->map_elem = lay(L, N(*m), "Elem") != ~0ull ? lay(L, N(*m), "Elem") : lay(L, N(*m), "elem");
			break;
		}
	}
#undef PICK
	d->kind_flags = minor <= 25;
	uint64_t all[] = { d->type_size, d->size, d->ptrbytes, d->tflag, d->align, d->kind, d->str,
			   d->ptrtothis, d->ptr_elem, d->slice_elem, d->array_elem, d->array_len,
			   d->chan_elem, d->chan_dir, d->func_in, d->func_out, d->iface_methods,
			   d->struct_fields, d->field_size, d->field_name, d->field_typ,
			   d->field_off, d->uncommon_pkgpath, d->itab_type, d->map_size, d->map_key,
			   d->map_elem, d->map_group, d->ptr_size, d->slice_size, d->array_size,
			   d->chan_size, d->func_size, d->iface_size, d->struct_size };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (all[i] == ~0ull || all[i] > 4096)
			return -1;
	return 0;
}

/* ---- names ------------------------------------------------------------ */

/* An abi.Name at a: its bytes and length; false if it does not look like
 * one.  Names are a flag byte, a uvarint length and the bytes. */
static bool name_at(const struct td *T, uint64_t a, const char **s, size_t *len, uint8_t *flags)
{
	const unsigned char *p = tp(T, a, 2);
	uint64_t n = 0;
	unsigned k = 1;
	if (!p)
		return false;
	for (unsigned sh = 0; k < 4; k++, sh += 7) {
		const unsigned char *c = tp(T, a + k, 1);
		if (!c)
			return false;
		n |= (uint64_t)(*c & 0x7f) << sh;
		if (!(*c & 0x80))
			break;
	}
	if (k == 4 || n > MAX_NAME || !(p = tp(T, a, k + 1 + n)))
		return false;
	for (uint64_t i = 0; i < n; i++)
		if (p[k + 1 + i] < 0x20 || p[k + 1 + i] == 0x7f)
			return false;
	*s = (const char *)p + k + 1;
	*len = (size_t)n;
	if (flags)
		*flags = p[0];
	return true;
}

static uint8_t dkind(const struct td *T, const unsigned char *p)
{
	return p[T->D.kind] & 0x1f;
}

/* The descriptor's own string (ExtraStar dropped). */
static bool desc_str(const struct td *T, uint64_t a, const char **s, size_t *len)
{
	const unsigned char *p = tp(T, a, T->D.type_size);
	if (!p || !name_at(T, T->types + le32(p + T->D.str), s, len, NULL))
		return false;
	if (p[T->D.tflag] & TFLAG_EXTRA_STAR) {
		if (!*len || **s != '*')
			return false;
		(*s)++;
		(*len)--;
	}
	return true;
}

/* Size of the kind-specific descriptor, where its uncommon data follows. */
static uint64_t kind_size(const struct td *T, uint8_t k)
{
	switch (k) {
	case K_PTR: return T->D.ptr_size;
	case K_SLICE: return T->D.slice_size;
	case K_ARRAY: return T->D.array_size;
	case K_CHAN: return T->D.chan_size;
	case K_FUNC: return T->D.func_size;
	case K_IFACE: return T->D.iface_size;
	case K_STRUCT: return T->D.struct_size;
	case K_MAP: return T->D.map_size;
	}
	return T->D.type_size;
}

/* A named type's package path, from its uncommon data; NULL if none. */
static bool pkg_path(const struct td *T, uint64_t a, const char **s, size_t *len)
{
	const unsigned char *p = tp(T, a, T->D.type_size);
	if (!p || !(p[T->D.tflag] & TFLAG_UNCOMMON))
		return false;
	const unsigned char *u = tp(T, a + kind_size(T, dkind(T, p)) + T->D.uncommon_pkgpath, 4);
	uint32_t off = u ? le32(u) : 0;
	return off && name_at(T, T->types + off, s, len, NULL) && *len;
}

static struct desc *desc_find(struct td *T, uint64_t a)
{
	size_t lo = 0, hi = T->ndescs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (T->descs[mid].addr < a)
			lo = mid + 1;
		else if (T->descs[mid].addr > a)
			hi = mid;
		else
			return &T->descs[mid];
	}
	return NULL;
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static const char *type_name(struct td *T, uint64_t a, int depth);

/* An unnamed struct type's name as DWARF spells it: unexported fields
 * qualified by their package's path ("struct { main.n int; M string }");
 * NULL when a field cannot be read. */
static char *struct_name(struct td *T, uint64_t a, int depth)
{
	const struct desc_layout *D = &T->D;
	uint64_t f = t64(T, a + D->struct_fields), n = t64(T, a + D->struct_fields + 8);
	const char *pp = NULL, *fn;
	size_t pl = 0, fl, len = 0, cap = 0;
	char *out = NULL;
	const unsigned char *pn = tp(T, a + D->type_size, 8);
	uint8_t flags;

	if (pn && le64(pn) && !name_at(T, le64(pn), &pp, &pl, NULL))
		pp = NULL;
	if (n > MAX_FIELDS)
		return NULL;
	for (uint64_t i = 0; i <= n; i++) {
		char *piece = NULL;
		int k;
		if (i == n) {
			k = asprintf(&piece, n ? " }" : "struct {}");
		} else {
			const unsigned char *fp = tp(T, f + i * D->field_size, D->field_size);
			if (!fp || !name_at(T, le64(fp + D->field_name), &fn, &fl, &flags)) {
				free(out);
				return NULL;
			}
			const char *tn = type_name(T, le64(fp + D->field_typ), depth + 1);
			bool exported = flags & 1, qualify = !exported && pp && pl && !(flags & NAME_EMBEDDED);
			if (flags & NAME_EMBEDDED)
				k = asprintf(&piece, "%s%s", i ? "; " : "struct { ", tn);
			else
				k = asprintf(&piece, "%s%.*s%s%.*s %s", i ? "; " : "struct { ",
					     qualify ? (int)pl : 0, qualify ? pp : "", qualify ? "." : "",
					     (int)fl, fn, tn);
		}
		if (k < 0 || grow_array((void **)&out, &cap, len + (size_t)k + 1, 1, 64)) {
			free(piece);
			free(out);
			return NULL;
		}
		memcpy(out + len, piece, (size_t)k + 1);
		len += (size_t)k;
		free(piece);
	}
	return out;
}

/* The type's name as DWARF spells it: packages by import path, composite
 * types from their parts' names. */
static const char *type_name(struct td *T, uint64_t a, int depth)
{
	struct desc *d = desc_find(T, a);
	const char *s;
	size_t n;
	char *out = NULL;

	if (!d)
		return "?";
	if (d->name)
		return d->name;
	const unsigned char *p = tp(T, a, T->D.type_size);
	if (!p || !desc_str(T, a, &s, &n))
		return "?";
	uint8_t k = d->kind;
	if (depth > MAX_NAME_DEPTH)
		return keep(T, dupn(s, n)) ? T->strs[T->nstrs - 1] : "?";
	if (p[T->D.tflag] & TFLAG_NAMED) {
		const char *pp, *dot = memchr(s, '.', n);
		size_t pl;
		/* "y.T" with package path "example.com/x/y": example.com/x/y.T */
		if (dot && pkg_path(T, a, &pp, &pl) && asprintf(&out, "%.*s%.*s", (int)pl, pp,
								   (int)(n - (size_t)(dot - s)), dot) < 0)
			out = NULL;
		if (!out)
			out = dupn(s, n);
	} else if (k == K_PTR) {
		if (asprintf(&out, "*%s", type_name(T, t64(T, a + T->D.ptr_elem), depth + 1)) < 0)
			out = NULL;
	} else if (k == K_SLICE) {
		if (asprintf(&out, "[]%s", type_name(T, t64(T, a + T->D.slice_elem), depth + 1)) < 0)
			out = NULL;
	} else if (k == K_ARRAY) {
		if (asprintf(&out, "[%" PRIu64 "]%s", t64(T, a + T->D.array_len),
			     type_name(T, t64(T, a + T->D.array_elem), depth + 1)) < 0)
			out = NULL;
	} else if (k == K_MAP) {
		const char *kn = type_name(T, t64(T, a + T->D.map_key), depth + 1);
		if (asprintf(&out, "map[%s]%s", kn, type_name(T, t64(T, a + T->D.map_elem), depth + 1)) < 0)
			out = NULL;
	} else if (k == K_CHAN) {
		uint64_t dir = t64(T, a + T->D.chan_dir);
		if (asprintf(&out, "%s%s", dir == 1 ? "<-chan " : dir == 2 ? "chan<- " : "chan ",
			     type_name(T, t64(T, a + T->D.chan_elem), depth + 1)) < 0)
			out = NULL;
	} else if (k == K_STRUCT) {
		out = struct_name(T, a, depth);
		if (!out)
			out = dupn(s, n);
	} else {
		out = dupn(s, n);
	}
	d = desc_find(T, a);      /* type_name may not move descs, but be safe */
	if (!keep(T, out))
		return "?";
	d->name = out;
	return out;
}

/* ---- finding the descriptors ------------------------------------------ */

/* True if a was not seen yet (and is now); false if it was, or when
 * memory ran out. */
static bool seen_add(struct td *T, uint64_t a)
{
	return wordset_add(&T->seen, a) > 0;
}

/* Does a descriptor start at a?  Its header must make sense for its kind,
 * and its name must be a name. */
static bool looks_like_desc(const struct td *T, uint64_t a)
{
	const struct desc_layout *D = &T->D;
	const unsigned char *p = tp(T, a, D->type_size);
	const char *s;
	size_t n;

	if (!p || (a & 7))
		return false;
	uint8_t kb = p[D->kind], k = kb & 0x1f, al = p[D->align], fa = p[D->fieldalign];
	uint64_t size = le64(p + D->size), ptr = le64(p + D->ptrbytes);
	if (!k || k > K_UNSAFEPTR || (!D->kind_flags && kb != k) || (kb & 0x80) ||
	    (al != 1 && al != 2 && al != 4 && al != 8) || (fa != 1 && fa != 2 && fa != 4 && fa != 8) ||
	    size > (1ull << 40) || ptr > size || (ptr & 7) || (size % al) || (p[D->tflag] & 0xc0))
		return false;
	static const uint8_t fixed[] = {
		[K_BOOL] = 1, [K_INT] = 8, [K_INT8] = 1, [K_INT16] = 2, [K_INT32] = 4, [K_INT64] = 8,
		[K_UINT] = 8, [K_UINT8] = 1, [K_UINT16] = 2, [K_UINT32] = 4, [K_UINT64] = 8,
		[K_UINTPTR] = 8, [K_FLOAT32] = 4, [K_FLOAT64] = 8, [K_COMPLEX64] = 8,
		[K_COMPLEX128] = 16, [K_CHAN] = 8, [K_FUNC] = 8, [K_IFACE] = 16, [K_MAP] = 8,
		[K_PTR] = 8, [K_SLICE] = 24, [K_STRING] = 16, [K_UNSAFEPTR] = 8,
	};
	if (fixed[k] && size != fixed[k])
		return false;
	uint32_t ptt = le32(p + D->ptrtothis);
	if (ptt && (ptt >= T->etypes - T->types || (ptt & 7)))
		return false;
	if (!desc_str(T, a, &s, &n) || !n || !tp(T, a, kind_size(T, k)))
		return false;
	/* References to other descriptors must land inside the region. */
	uint64_t ref = 0;
	switch (k) {
	case K_PTR: ref = t64(T, a + D->ptr_elem); break;
	case K_SLICE: ref = t64(T, a + D->slice_elem); break;
	case K_ARRAY: ref = t64(T, a + D->array_elem); break;
	case K_CHAN: ref = t64(T, a + D->chan_elem); break;
	case K_MAP: ref = t64(T, a + D->map_key); break;
	default: return true;
	}
	return ref && in_types(T, ref, D->type_size) && !(ref & 7);
}

static void want(struct td *T, uint64_t a)
{
	if (!a || (a & 7) || !in_types(T, a, T->D.type_size) || !seen_add(T, a))
		return;
	if (grow_array((void **)&T->queue, &T->capqueue, T->nqueue + 1, sizeof(*T->queue), 1024))
		return;
	T->queue[T->nqueue++] = a;
}

/* Every descriptor a references. */
static void references(struct td *T, uint64_t a, uint8_t k)
{
	const struct desc_layout *D = &T->D;
	const unsigned char *p = tp(T, a, D->type_size);
	uint32_t ptt = p ? le32(p + D->ptrtothis) : 0;

	if (ptt)
		want(T, T->types + ptt);
	switch (k) {
	case K_PTR: want(T, t64(T, a + D->ptr_elem)); break;
	case K_SLICE: want(T, t64(T, a + D->slice_elem)); break;
	case K_ARRAY:
		want(T, t64(T, a + D->array_elem));
		break;
	case K_CHAN: want(T, t64(T, a + D->chan_elem)); break;
	case K_MAP:
		want(T, t64(T, a + D->map_key));
		want(T, t64(T, a + D->map_elem));
		want(T, t64(T, a + D->map_group));
		break;
	case K_STRUCT: {
		uint64_t f = t64(T, a + D->struct_fields), n = t64(T, a + D->struct_fields + 8);
		for (uint64_t i = 0; i < n && i < MAX_FIELDS; i++)
			want(T, t64(T, f + i * D->field_size + D->field_typ));
		break;
	}
	default:
		break;
	}
}

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = ((const struct desc *)a)->addr, y = ((const struct desc *)b)->addr;
	return x < y ? -1 : x > y;
}

static int collect(struct td *T)
{
	/* By shape, over the whole region, then whatever those reference
	 * (a descriptor the scan doubted is still one if another names it). */
	for (uint64_t a = T->types; a + T->D.type_size <= T->etypes; a += 8)
		if (looks_like_desc(T, a))
			want(T, a);
	for (size_t i = 0; i < T->nqueue && T->ndescs < MAX_DESCS; i++) {
		uint64_t a = T->queue[i];
		const unsigned char *p = tp(T, a, T->D.type_size);
		if (!p)
			continue;
		uint8_t k = dkind(T, p);
		if (!k || k > K_UNSAFEPTR || !tp(T, a, kind_size(T, k)))
			continue;
		if (grow_array((void **)&T->descs, &T->capdescs, T->ndescs + 1, sizeof(*T->descs), 1024))
			return -1;
		T->descs[T->ndescs++] = (struct desc){ a, k, false, NULL };
		references(T, a, k);
	}
	if (T->ndescs)    /* qsort(NULL, 0) is undefined */
		qsort(T->descs, T->ndescs, sizeof(*T->descs), cmp_desc);
	/* A classic map's bucket type gets the member names DWARF gives it. */
	for (size_t i = 0; i < T->ndescs && !T->D.swiss; i++) {
		if (T->descs[i].kind != K_MAP)
			continue;
		struct desc *b = desc_find(T, t64(T, T->descs[i].addr + T->D.map_group));
		if (b && b->kind == K_STRUCT)
			b->bucket = true;
	}
	return 0;
}

/* ---- the model -------------------------------------------------------- */

static uint64_t lkey(const struct td *T, const char *name)
{
	const struct gl_type *t = name && *name ? golayout_type(T->L, name) : NULL;
	return t ? KEY_TAG(T_LAYOUT, (uint64_t)(t - T->L->types) + 1) : 0;
}

/* The layout table's types, as they are. */
static void add_layout_types(struct td *T)
{
	for (size_t i = 0; i < T->L->ntypes; i++) {
		const struct gl_type *t = &T->L->types[i];
		type_id id = gtb_add_type(T->b, KEY_TAG(T_LAYOUT, i + 1), &(struct gtb_type){
			t->kind, t->go_kind, t->name, t->size, t->count, 0, lkey(T, t->target),
			lkey(T, t->elem), lkey(T, t->key) });
		for (size_t j = 0; id && j < t->nmembers; j++)
			gtb_add_member(T->b, id, t->members[j].name, lkey(T, t->members[j].type),
				       t->members[j].offset, t->members[j].embedded);
	}
	gtb_add_type(T->b, KEY_TAG(T_BUILTIN, B_UNSAFEPTR),
		     &(struct gtb_type){ .kind = GK_PTR, .go_kind = K_UNSAFEPTR, .name = "unsafe.Pointer", .size = 8 });
	gtb_add_type(T->b, KEY_TAG(T_BUILTIN, B_INT),
		     &(struct gtb_type){ .kind = GK_BASE, .go_kind = K_INT, .name = "int", .size = 8 });
	gtb_add_type(T->b, KEY_TAG(T_BUILTIN, B_UINT8),
		     &(struct gtb_type){ .kind = GK_BASE, .go_kind = K_UINT8, .name = "uint8", .size = 1 });
	gtb_add_type(T->b, KEY_TAG(T_BUILTIN, B_PTR_UINT8),
		     &(struct gtb_type){ .kind = GK_PTR, .go_kind = K_PTR, .name = "*uint8", .size = 8,
					 .target = KEY_TAG(T_BUILTIN, B_UINT8) });
	gtb_add_type(T->b, KEY_TAG(T_BUILTIN, B_HCHANPTR),
		     &(struct gtb_type){ .kind = GK_PTR, .go_kind = K_PTR, .name = "*runtime.hchan", .size = 8,
					 .target = lkey(T, "runtime.hchan") });
}

/* A pointer to descriptor a: its own *T descriptor if there is one. */
static uint64_t ptr_to(struct td *T, uint64_t a)
{
	const unsigned char *p = tp(T, a, T->D.type_size);
	uint32_t ptt = p ? le32(p + T->D.ptrtothis) : 0;
	if (ptt && desc_find(T, T->types + ptt))
		return T->types + ptt;
	if (!seen_add(T, KEY_TAG(T_PTRTO, a)))
		return KEY_TAG(T_PTRTO, a);      /* made before */
	char *n = NULL;
	if (asprintf(&n, "*%s", type_name(T, a, 0)) < 0 || !keep(T, n))
		return 0;
	gtb_add_type(T->b, KEY_TAG(T_PTRTO, a), &(struct gtb_type){ .kind = GK_PTR, .go_kind = K_PTR,
		     .name = n, .size = 8, .target = a });
	return KEY_TAG(T_PTRTO, a);
}

/* Copy a runtime struct of the layout table, retyping some members. */
static void copy_struct(struct td *T, uint64_t key, const char *name, const char *from,
			const char *const *retype, const uint64_t *to)
{
	const struct gl_type *s = golayout_type(T->L, from);
	if (!s)
		return;
	type_id id = gtb_add_type(T->b, key, &(struct gtb_type){ .kind = GK_STRUCT,
		.go_kind = K_STRUCT, .name = name, .size = s->size });
	for (size_t j = 0; id && j < s->nmembers; j++) {
		uint64_t k = lkey(T, s->members[j].type);
		for (size_t r = 0; retype[r]; r++)
			if (!strcmp(retype[r], s->members[j].name))
				k = to[r];
		gtb_add_member(T->b, id, s->members[j].name, k, s->members[j].offset,
			       s->members[j].embedded);
	}
}

static const char *synth_name(struct td *T, const char *fmt, const char *k, const char *v)
{
	char *n = NULL;
	if (asprintf(&n, fmt, k, v) < 0)
		return NULL;
	return keep(T, n);
}

/* A map type: the typedef, and the header (and below it the bucket array,
 * or the directory, tables and groups) DWARF's synthesized types have. */
static void add_map(struct td *T, const struct desc *d, const char *name, uint64_t rt)
{
	uint64_t a = d->addr, key = t64(T, a + T->D.map_key), elem = t64(T, a + T->D.map_elem),
		 group = t64(T, a + T->D.map_group);
	const char *kn = type_name(T, key, 0), *vn = type_name(T, elem, 0);

	gtb_add_type(T->b, a, &(struct gtb_type){ .kind = GK_MAP, .go_kind = K_MAP, .name = name,
		     .size = 8, .runtime_type = rt, .target = KEY_TAG(T_HASHPTR, a), .elem = elem,
		     .key = key });
	if (!T->D.swiss) {
		gtb_add_type(T->b, KEY_TAG(T_HASHPTR, a), &(struct gtb_type){ .kind = GK_PTR,
			     .go_kind = K_PTR, .name = synth_name(T, "*hash<%s,%s>", kn, vn),
			     .size = 8, .target = KEY_TAG(T_HASH, a) });
		gtb_add_type(T->b, KEY_TAG(T_BUCKETPTR, a), &(struct gtb_type){ .kind = GK_PTR,
			     .go_kind = K_PTR, .name = synth_name(T, "*bucket<%s,%s>", kn, vn),
			     .size = 8, .target = group });
		uint64_t bp = KEY_TAG(T_BUCKETPTR, a);
		copy_struct(T, KEY_TAG(T_HASH, a), synth_name(T, "hash<%s,%s>", kn, vn),
			    "runtime.hmap", N("buckets", "oldbuckets"), (uint64_t[]){ bp, bp });
		return;
	}
	gtb_add_type(T->b, KEY_TAG(T_HASHPTR, a), &(struct gtb_type){ .kind = GK_PTR,
		     .go_kind = K_PTR, .name = synth_name(T, "*map<%s,%s>", kn, vn), .size = 8,
		     .target = KEY_TAG(T_HASH, a) });
	copy_struct(T, KEY_TAG(T_HASH, a), synth_name(T, "map<%s,%s>", kn, vn),
		    "internal/runtime/maps.Map", N("dirPtr"), (uint64_t[]){ KEY_TAG(T_DIRPTR, a) });
	gtb_add_type(T->b, KEY_TAG(T_DIRPTR, a), &(struct gtb_type){ .kind = GK_PTR,
		     .go_kind = K_PTR, .name = synth_name(T, "**table<%s,%s>", kn, vn), .size = 8,
		     .target = KEY_TAG(T_TABLEPTR, a) });
	gtb_add_type(T->b, KEY_TAG(T_TABLEPTR, a), &(struct gtb_type){ .kind = GK_PTR,
		     .go_kind = K_PTR, .name = synth_name(T, "*table<%s,%s>", kn, vn), .size = 8,
		     .target = KEY_TAG(T_TABLE, a) });
	copy_struct(T, KEY_TAG(T_TABLE, a), synth_name(T, "table<%s,%s>", kn, vn),
		    "internal/runtime/maps.table", N("groups"), (uint64_t[]){ KEY_TAG(T_GREF, a) });
	gtb_add_type(T->b, KEY_TAG(T_GROUPPTR, a), &(struct gtb_type){ .kind = GK_PTR,
		     .go_kind = K_PTR, .name = synth_name(T, "*group<%s,%s>", kn, vn), .size = 8,
		     .target = group });
	copy_struct(T, KEY_TAG(T_GREF, a), synth_name(T, "groupReference<%s,%s>", kn, vn),
		    "internal/runtime/maps.groupsReference", N("data"),
		    (uint64_t[]){ KEY_TAG(T_GROUPPTR, a) });
}

static void add_desc(struct td *T, const struct desc *d)
{
	const struct desc_layout *D = &T->D;
	uint64_t a = d->addr, rt = a - T->types;
	const unsigned char *p = tp(T, a, D->type_size);
	const char *name = type_name(T, a, 0);
	uint64_t size = le64(p + D->size);
	struct gtb_type t = { .go_kind = d->kind, .name = name, .size = size, .runtime_type = rt };
	type_id id;

	switch (d->kind) {
	case K_BOOL: case K_INT: case K_INT8: case K_INT16: case K_INT32: case K_INT64:
	case K_UINT: case K_UINT8: case K_UINT16: case K_UINT32: case K_UINT64: case K_UINTPTR:
	case K_FLOAT32: case K_FLOAT64: case K_COMPLEX64: case K_COMPLEX128:
		t.kind = GK_BASE;
		gtb_add_type(T->b, a, &t);
		return;
	case K_STRING:
		t.kind = GK_STRING;
		id = gtb_add_type(T->b, a, &t);
		gtb_add_member(T->b, id, "str", KEY_TAG(T_BUILTIN, B_PTR_UINT8), 0, false);
		gtb_add_member(T->b, id, "len", KEY_TAG(T_BUILTIN, B_INT), 8, false);
		return;
	case K_UNSAFEPTR:
		t.kind = GK_PTR;
		gtb_add_type(T->b, a, &t);
		return;
	case K_PTR:
		t.kind = GK_PTR;
		t.target = t64(T, a + D->ptr_elem);
		gtb_add_type(T->b, a, &t);
		return;
	case K_FUNC:
		t.kind = GK_FUNC;
		gtb_add_type(T->b, a, &t);
		return;
	case K_CHAN:
		t.kind = GK_CHAN;
		t.elem = t64(T, a + D->chan_elem);
		t.target = KEY_TAG(T_BUILTIN, B_HCHANPTR);
		gtb_add_type(T->b, a, &t);
		return;
	case K_IFACE:
		t.kind = GK_IFACE;
		t.target = lkey(T, t64(T, a + D->iface_methods + 8) ? "runtime.iface" : "runtime.eface");
		gtb_add_type(T->b, a, &t);
		return;
	case K_ARRAY:
		t.kind = GK_ARRAY;
		t.elem = t64(T, a + D->array_elem);
		t.count = t64(T, a + D->array_len);
		gtb_add_type(T->b, a, &t);
		return;
	case K_SLICE: {
		uint64_t elem = t64(T, a + D->slice_elem), pe = ptr_to(T, elem);
		t.kind = GK_SLICE;
		t.elem = elem;
		id = gtb_add_type(T->b, a, &t);
		gtb_add_member(T->b, id, "array", pe, 0, false);
		gtb_add_member(T->b, id, "len", KEY_TAG(T_BUILTIN, B_INT), 8, false);
		gtb_add_member(T->b, id, "cap", KEY_TAG(T_BUILTIN, B_INT), 16, false);
		return;
	}
	case K_MAP:
		add_map(T, d, name, rt);
		return;
	case K_STRUCT: {
		uint64_t f = t64(T, a + D->struct_fields), n = t64(T, a + D->struct_fields + 8);
		t.kind = GK_STRUCT;
		id = gtb_add_type(T->b, a, &t);
		for (uint64_t i = 0; id && i < n && i < MAX_FIELDS; i++) {
			uint64_t fa = f + i * D->field_size;
			const unsigned char *fp = tp(T, fa, D->field_size);
			const char *fn;
			size_t fl;
			uint8_t flags = 0;
			if (!fp || !name_at(T, le64(fp + D->field_name), &fn, &fl, &flags))
				break;
			char *mn = dupn(fn, fl);
			/* A classic bucket's members as DWARF names them. */
			if (mn && d->bucket && !strcmp(mn, "topbits")) {
				free(mn);
				mn = strdup("tophash");
			} else if (mn && d->bucket && !strcmp(mn, "elems")) {
				free(mn);
				mn = strdup("values");
			}
			if (!keep(T, mn))
				break;
			gtb_add_member(T->b, id, mn, le64(fp + D->field_typ), le64(fp + D->field_off),
				       (flags & NAME_EMBEDDED) != 0);
		}
		return;
	}
	}
}

/* ---- the runtime's variables -------------------------------------------- */

/* A region of the image, copied (unreadable pages read as zero). */
struct region {
	uint64_t lo, hi;
	unsigned char *b;
};

static int region_read(const struct target *t, struct region *r, uint64_t lo, uint64_t hi)
{
	r->lo = lo;
	r->hi = hi > lo && hi - lo <= MAX_SCAN ? hi : lo;
	r->b = calloc(1, r->hi - r->lo + 8);
	if (!r->b)
		return -1;
	for (uint64_t a = r->lo; a < r->hi;) {
		uint64_t k = ((a | 4095) + 1) - a;
		if (k > r->hi - a)
			k = r->hi - a;
		target_read(t, a, r->b + (a - r->lo), k);
		a += k;
	}
	return 0;
}

static uint64_t r64(const struct region *r, uint64_t a)
{
	return a >= r->lo && a + 8 <= r->hi ? le64(r->b + (a - r->lo)) : 0;
}

struct vars {
	uint64_t data, edata, bss, ebss, noptrbss, enoptrbss, noptrdata, enoptrdata;
	uint64_t mheap, mheap_size, allgs, allm, sizes, sizes_size, version;
};

static uint64_t off_or(const struct golayout *L, const char *type, const char *path)
{
	uint64_t o;
	return golayout_offset(L, type, path, &o, NULL) ? ~0ull : o;
}

/* runtime.mheap_: its allspans lists spans whose arenas list them back. */
static bool is_mheap(struct td *T, const struct region *r, uint64_t x)
{
	const struct golayout *L = T->L;
	uint64_t o_all = off_or(L, "runtime.mheap", "allspans"),
		 o_ar = off_or(L, "runtime.mheap", "arenas"),
		 o_start = off_or(L, "runtime.mspan", "startAddr"),
		 o_np = off_or(L, "runtime.mspan", "npages"),
		 o_state = off_or(L, "runtime.mspan", "state"),
		 o_spans = off_or(L, "runtime.heapArena", "spans");
	if (o_all == ~0ull || o_ar == ~0ull || o_start == ~0ull || o_state == ~0ull ||
	    o_spans == ~0ull || o_np == ~0ull)
		return false;
	uint64_t ptr = r64(r, x + o_all), len = r64(r, x + o_all + 8), cap = r64(r, x + o_all + 16);
	if (!ptr || !len || len > cap || cap > (1u << 26) || (ptr & 7) || !T->budget)
		return false;
	T->budget--;
	unsigned checked = 0;
	for (uint64_t i = 0; i < len && i < 64 && checked < 4; i++) {
		uint64_t s, start, np, l2, ha, back;
		unsigned char st;
		if (target_read_u64(T->t, ptr + 8 * i, &s) || !s ||
		    target_read(T->t, s + o_state, &st, 1))
			return false;
		if (st != 1)
			continue;
		if (target_read_u64(T->t, s + o_start, &start) ||
		    target_read_u64(T->t, s + o_np, &np) || !np || (start & 8191))
			return false;
		/* 64 MiB arenas, one level of 1<<22 (arenaL1Bits 0), from the
		 * architecture's arenaBaseOffset. */
		uint64_t idx = (start - target_arch(T->t)->arena_base_offset) >> 26;
		l2 = r64(r, x + o_ar);       /* arenas[0] */
		if (idx >= (1u << 22) || !l2 || target_read_u64(T->t, l2 + 8 * idx, &ha) || !ha ||
		    target_read_u64(T->t, ha + o_spans + 8 * ((start >> 13) & 8191), &back) ||
		    back != s)
			return false;
		checked++;
	}
	return checked > 0;
}

/* runtime.allgs: its first goroutine is the main one (goid 1). */
static bool is_allgs(struct td *T, const struct region *r, uint64_t x)
{
	const struct golayout *L = T->L;
	uint64_t o_lo = off_or(L, "runtime.g", "stack.lo"), o_hi = off_or(L, "runtime.g", "stack.hi"),
		 o_goid = off_or(L, "runtime.g", "goid");
	uint64_t ptr = r64(r, x), len = r64(r, x + 8), cap = r64(r, x + 16);
	if (!ptr || !len || len > cap || cap > (1u << 24) || (ptr & 7) || o_goid == ~0ull ||
	    !T->budget)
		return false;
	T->budget--;
	for (uint64_t i = 0; i < len && i < 8; i++) {
		uint64_t g, lo, hi, id;
		if (target_read_u64(T->t, ptr + 8 * i, &g) || !g ||
		    target_read_u64(T->t, g + o_lo, &lo) || target_read_u64(T->t, g + o_hi, &hi) ||
		    target_read_u64(T->t, g + o_goid, &id))
			return false;
		if ((lo || hi) && (hi <= lo || hi - lo > (1u << 30) || (lo & 7)))
			return false;
		if (i == 0 && id != 1)
			return false;
	}
	return true;
}

/* runtime.allm: a chain of m's through alllink ending at m0, a global. */
static bool is_allm(struct td *T, const struct region *r, const struct vars *v, uint64_t x)
{
	const struct golayout *L = T->L;
	uint64_t o_link = off_or(L, "runtime.m", "alllink"), o_g0 = off_or(L, "runtime.m", "g0"),
		 o_hi = off_or(L, "runtime.g", "stack.hi");
	uint64_t m = r64(r, x), last = 0;
	if (!m || (m & 7) || o_link == ~0ull || o_g0 == ~0ull)
		return false;
	for (unsigned n = 0; m && n < 1 << 14; n++) {
		uint64_t g0, hi;
		if (!T->budget)
			return false;
		T->budget--;
		if ((m & 7) || target_read_u64(T->t, m + o_g0, &g0) || !g0 ||
		    target_read_u64(T->t, g0 + o_hi, &hi) || !hi)
			return false;
		last = m;
		if (target_read_u64(T->t, m + o_link, &m))
			return false;
	}
	return !m && ((last >= v->bss && last < v->ebss) || (last >= v->noptrbss && last < v->enoptrbss));
}

static void find_vars(struct td *T, struct vars *v, const char *version)
{
	struct region r;
	const struct gl_type *mh = golayout_type(T->L, "runtime.mheap");
	/* Runtime structures are in bss (they hold pointers) or noptrbss. */
	for (int pass = 0; pass < 2; pass++) {
		uint64_t lo = pass ? v->noptrbss : v->bss, hi = pass ? v->enoptrbss : v->ebss;
		if (region_read(T->t, &r, lo, hi))
			return;
		for (uint64_t x = r.lo; x + 24 <= r.hi; x += 8) {
			if (!v->mheap && mh && x + mh->size <= r.hi && is_mheap(T, &r, x)) {
				v->mheap = x;
				v->mheap_size = mh->size;
			}
			if (!v->allgs && is_allgs(T, &r, x))
				v->allgs = x;
			if (!v->allm && is_allm(T, &r, v, x))
				v->allm = x;
		}
		free(r.b);
	}
	/* The size classes (noptrdata) by their first values; the version's
	 * string header (data or noptrdata) by the bytes it points to. */
	static const uint16_t classes[] = { 0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128 };
	size_t vl = strlen(version);
	for (int pass = 0; pass < 2; pass++) {
		uint64_t lo = pass ? v->data : v->noptrdata, hi = pass ? v->edata : v->enoptrdata;
		if (region_read(T->t, &r, lo, hi))
			return;
		for (uint64_t x = r.lo; x + 24 <= r.hi; x += 8) {
			if (!v->sizes && x + sizeof classes <= r.hi &&
			    !memcmp(r.b + (x - r.lo), classes, sizeof classes))
				v->sizes = x;
			char buf[64];
			uint64_t p = r64(&r, x), n = r64(&r, x + 8);
			if (!v->version && n == vl && vl < sizeof buf && p &&
			    !target_read(T->t, p, buf, vl) && !memcmp(buf, version, vl))
				v->version = x;
		}
		free(r.b);
	}
}

/* Every pointer word of data and bss, by the runtime's own masks. */
/* ---- what the code says ----------------------------------------------------
 *
 * Without DWARF a variable has no type, but the code that uses a map says
 * which: every call of the runtime's map functions passes the map type's
 * descriptor in AX and the map in BX (ABIInternal, Go 1.17+).  Just before
 * such a call the compiler loads them,
 *
 *	LEAQ type:map[K]V(IP), AX       48 8d 05 rel32
 *	MOVQ main.m(IP), BX             48 8b 1d rel32    a global
 *	MOVQ off(SP), BX                48 8b 5c 24 d8 / 48 8b 9c 24 d32    a local
 *
 * so a global, or a frame slot of that function, holds a map of that type.
 * A frame slot the compiler gives a map[K]V value holds only values of that
 * type (stack slots are shared only between values of one type), so the
 * type is right for the whole function.  A global two sites disagree on is
 * left untyped. */

#define CALL_WINDOW 48
#define STORE_WINDOW 128          /* a new object's fields are set before it is stored */

struct site_global {
	uint64_t addr, type;       /* image address, descriptor */
	bool conflict;
};

struct site_local {
	uint64_t entry, type;      /* function (image address), descriptor */
	int64_t cfa_off;           /* the slot is at CFA + cfa_off */
};

struct sites {
	struct site_global *g;
	size_t ng, capg;
	struct site_local *l;
	size_t nl, capl;
};

static bool is_map_call(const char *name)
{
	static const char *const pre[] = { "runtime.mapaccess", "runtime.mapassign",
		"runtime.mapdelete", "runtime.mapiterinit", "runtime.mapIterStart", "runtime.mapclear" };
	for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
		if (!strncmp(name, pre[i], strlen(pre[i])))
			return true;
	return false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void site_global(struct sites *S, uint64_t a, uint64_t type)
{
	for (size_t i = 0; i < S->ng; i++)
		if (S->g[i].addr == a) {
			if (S->g[i].type != type)
				S->g[i].conflict = true;
			return;
		}
	if (!grow_array((void **)&S->g, &S->capg, S->ng + 1, sizeof(*S->g), 64))
		S->g[S->ng++] = (struct site_global){ a, type, false };
}

static void site_local(struct sites *S, uint64_t entry, uint64_t type, int64_t off)
{
	for (size_t i = 0; i < S->nl; i++)
		if (S->l[i].entry == entry && S->l[i].cfa_off == off)
			return;      /* one type per slot (see above) */
	if (!grow_array((void **)&S->l, &S->capl, S->nl + 1, sizeof(*S->l), 64))
		S->l[S->nl++] = (struct site_local){ entry, type, off };
}

/* SP's distance below the CFA at pc in f, from its pcsp table. */
static int64_t cfa_at(const struct pclntab *p, const struct pcfunc *f, uint64_t pc)
{
	struct gcfa_row rows[MAX_CFA_ROWS];
	int n = pclntab_cfa_rows(p, f, rows, MAX_CFA_ROWS);
	int64_t off = -1;
	for (int i = 0; i < n; i++)
		if (f->entry + rows[i].pc <= pc)
			off = rows[i].off;
	return off;
}

/* Where register reg got its value before offset c (the code of one
 * function from lo), through register moves: a RIP-relative load (the
 * address loaded from: a global) or LEA (the address: a descriptor), or a
 * load from the frame (SP-relative, *slot).  0 when it came from anything
 * else, or from before a call. */
enum src { SRC_NONE, SRC_LOAD, SRC_LEA, SRC_SLOT };

static enum src trace(const struct td *T, const unsigned char *code, uint64_t lo, uint64_t c,
		      unsigned reg, uint64_t *addr, int64_t *slot)
{
	uint64_t from = c > lo + CALL_WINDOW ? c - CALL_WINDOW : lo;
	for (uint64_t q = c; q-- > from;) {
		const unsigned char *x = code + q;
		uint64_t room = c - q;
		/* A call in between clobbers every register. */
		if (x[0] == 0xe8 && room >= 5) {
			uint64_t to = T->text + q + 5 + (uint64_t)(int64_t)(int32_t)le32(x + 1);
			if (to >= T->text && to < T->etext)
				return SRC_NONE;
		}
		/* REX.W (with R and B for r8-r15): MOV r/m64<->r64, LEA. */
		if (room < 3 || (x[0] & 0xf8) != 0x48 || (x[0] & 2) ||
		    (x[1] != 0x89 && x[1] != 0x8b && x[1] != 0x8d))
			continue;
		unsigned mod = x[2] >> 6, r = ((x[2] >> 3) & 7) | ((x[0] & 4) << 1),
			 m = (x[2] & 7) | ((x[0] & 1) << 3);
		if (mod == 3) {
			/* 89: rm <- r; 8b: r <- rm */
			if (x[1] == 0x8d)
				continue;
			unsigned dst = x[1] == 0x89 ? m : r, src = x[1] == 0x89 ? r : m;
			if (dst == reg)
				reg = src;
			continue;
		}
		if (x[1] == 0x89 || r != reg)
			continue;
		if (mod == 0 && (x[2] & 7) == 5 && room >= 7) {
			*addr = T->text + q + 7 + (uint64_t)(int64_t)(int32_t)le32(x + 3);
			return x[1] == 0x8b ? SRC_LOAD : SRC_LEA;
		}
		if (x[1] == 0x8b && (x[2] & 7) == 4 && room >= 4 && x[3] == 0x24 && !(x[0] & 1) &&
		    ((mod == 1 && room >= 5) || (mod == 2 && room >= 8))) {
			*slot = mod == 1 ? (int64_t)x[4] : (int64_t)(int32_t)le32(x + 4);
			return SRC_SLOT;
		}
		return SRC_NONE;        /* from memory or arithmetic we do not follow */
	}
	return SRC_NONE;
}

static bool in_data(const struct vars *v, uint64_t a)
{
	return !(a & 7) && ((a >= v->data && a < v->edata) || (a >= v->bss && a < v->ebss));
}

/* What the call at c returned (AX) is stored to, with nothing writing AX
 * first but the write barrier's own call: MOVQ AX, global(IP) (returns
 * SRC_LOAD, *addr the global) or MOVQ AX, off(SP) (SRC_SLOT). */
static enum src stored_to(const struct td *T, const unsigned char *code, uint64_t c, uint64_t hi,
			  const uint64_t *wb, size_t nwb, uint64_t *addr, int64_t *slot)
{
	for (uint64_t q = c + 5; q + 8 <= hi && q < c + 5 + STORE_WINDOW; q++) {
		const unsigned char *x = code + q;
		if (x[0] == 0xe8) {
			uint64_t to = T->text + q + 5 + (uint64_t)(int64_t)(int32_t)le32(x + 1);
			if (to >= T->text && to < T->etext && !bsearch(&to, wb, nwb, sizeof(*wb), cmp_u64))
				return SRC_NONE;
		}
		if (x[0] == 0x48 && x[1] == 0x89 && x[2] == 0x05) {
			*addr = T->text + q + 7 + (uint64_t)(int64_t)(int32_t)le32(x + 3);
			return SRC_LOAD;
		}
		if (x[0] == 0x48 && x[1] == 0x89 && (x[2] == 0x44 || x[2] == 0x84) && x[3] == 0x24) {
			*slot = x[2] == 0x44 ? (int64_t)x[4] : (int64_t)(int32_t)le32(x + 4);
			return SRC_SLOT;
		}
		if ((x[0] & 0xfb) == 0x48 && (x[1] == 0x8b || x[1] == 0x8d) && ((x[2] >> 3) & 7) == 0)
			return SRC_NONE;       /* AX overwritten */
	}
	return SRC_NONE;
}

/* mallocgc(size, T, needzero) allocating one T: BX is T and AX was set
 * to T's size (MOVL $size, AX) in the same window. */
static bool new_of_size(const struct td *T, const unsigned char *code, uint64_t lo, uint64_t c,
			uint64_t *type)
{
	int64_t slot;
	struct desc *d;
	if (trace(T, code, lo, c, 3, type, &slot) != SRC_LEA || !(d = desc_find((struct td *)T, *type)))
		return false;
	const unsigned char *p = tp(T, *type, T->D.type_size);
	uint64_t size = p ? le64(p + T->D.size) : 0;
	uint64_t from = c > lo + CALL_WINDOW ? c - CALL_WINDOW : lo;
	for (uint64_t q = c; q-- > from;)
		if (code[q] == 0xb8 && c - q >= 5)
			return le32(code + q + 1) == size;
	return false;
}

static void scan_code(struct td *T, const struct pclntab *p, const struct vars *v,
		      struct sites *S)
{
	size_t n;
	const struct pcfunc *f = pclntab_funcs(p, &n);
	uint64_t *calls = NULL, *wb = NULL, *mallocs = NULL, newobj = 0, mk[2] = { 0, 0 };
	size_t nmk = 0, nmallocs = 0, capm = 0;
	size_t ncalls = 0, cap = 0, nwb = 0, capwb = 0;

	for (size_t i = 0; i < n; i++) {
		if (is_map_call(f[i].name) &&
		    !grow_array((void **)&calls, &cap, ncalls + 1, sizeof(*calls), 64))
			calls[ncalls++] = f[i].entry;
		if (!strncmp(f[i].name, "runtime.gcWriteBarrier", 22) &&
		    !grow_array((void **)&wb, &capwb, nwb + 1, sizeof(*wb), 16))
			wb[nwb++] = f[i].entry;
		if (!strcmp(f[i].name, "runtime.newobject"))
			newobj = f[i].entry;
		/* Go 1.27 allocates new(T) with mallocgc specialized by size
		 * class: (size AX, type BX, needzero CX). */
		if (!strncmp(f[i].name, "runtime.mallocgc", 16) &&
		    !grow_array((void **)&mallocs, &capm, nmallocs + 1, sizeof(*mallocs), 16))
			mallocs[nmallocs++] = f[i].entry;
		if (!strcmp(f[i].name, "runtime.makemap") || !strcmp(f[i].name, "runtime.makemap64"))
			mk[nmk < 2 ? nmk++ : 1] = f[i].entry;
	}
	unsigned char *code = NULL;
	if (!ncalls || T->etext <= T->text || T->etext - T->text > (1u << 30) ||
	    !(code = malloc(T->etext - T->text)) ||
	    target_read(T->t, T->text, code, T->etext - T->text))
		goto out;
	qsort(calls, ncalls, sizeof(*calls), cmp_u64);
	if (nwb)
		qsort(wb, nwb, sizeof(*wb), cmp_u64);
	if (nmallocs)
		qsort(mallocs, nmallocs, sizeof(*mallocs), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (f[i].entry < T->text || f[i].end > T->etext || f[i].end <= f[i].entry)
			continue;
		uint64_t lo = f[i].entry - T->text, hi = f[i].end - T->text;
		for (uint64_t c = lo; c + 5 <= hi; c++) {
			if (code[c] != 0xe8)
				continue;
			uint64_t to = T->text + c + 5 + (uint64_t)(int64_t)(int32_t)le32(code + c + 1);
			bool map = bsearch(&to, calls, ncalls, sizeof(*calls), cmp_u64) != NULL;
			bool make = to && (to == mk[0] || to == mk[1]);
			bool alloc = nmallocs && bsearch(&to, mallocs, nmallocs, sizeof(*mallocs), cmp_u64);
			if (!map && !make && !alloc && (!newobj || to != newobj))
				continue;
			uint64_t tdesc = 0, m = 0;
			int64_t slot = -1;
			struct desc *dd;
			if (alloc && !new_of_size(T, code, lo, c, &tdesc))
				continue;
			if (!alloc && trace(T, code, lo, c, 0, &tdesc, &slot) != SRC_LEA)
				continue;
			if (
			    !(dd = desc_find(T, tdesc)) || ((map || make) && dd->kind != K_MAP))
				continue;
			if (make || !map) {
				/* g = make(map[K]V, n): a map[K]V; g = new(T): a *T. */
				uint64_t key = make ? tdesc : KEY_TAG(T_PTRTO, tdesc), g = 0;
				enum src s = stored_to(T, code, c, hi, wb, nwb, &g, &slot);
				if (s == SRC_LOAD && in_data(v, g)) {
					site_global(S, g, key);
				} else if (s == SRC_SLOT) {
					int64_t cfa = cfa_at(p, &f[i], T->text + c);
					if (cfa > 0 && !(slot & 7) && slot >= 0 && slot < cfa)
						site_local(S, f[i].entry, key, slot - cfa);
				}
				continue;
			}
			enum src s = trace(T, code, lo, c, 3, &m, &slot);
			if (s == SRC_LOAD && in_data(v, m)) {
				site_global(S, m, tdesc);
			} else if (s == SRC_SLOT) {
				int64_t cfa = cfa_at(p, &f[i], T->text + c);
				if (cfa > 0 && !(slot & 7) && slot >= 0 && slot < cfa)
					site_local(S, f[i].entry, tdesc, slot - cfa);
			}
		}
	}
out:
	free(code);
	free(calls);
	free(wb);
	free(mallocs);
}

static uint64_t global_type(struct td *T, const struct sites *S, uint64_t a)
{
	for (size_t i = 0; S && i < S->ng; i++) {
		if (S->g[i].addr != a || S->g[i].conflict)
			continue;
		uint64_t k = S->g[i].type;
		/* new(T) sites say *T */
		if (k >> 56 == T_PTRTO)
			return ptr_to(T, k & ((1ull << 56) - 1));
		return k;
	}
	return KEY_TAG(T_BUILTIN, B_UNSAFEPTR);
}

static void add_globals(struct td *T, const struct vars *v, const unsigned char *md,
			uint64_t mdsize, const struct sites *S)
{
	static const char *const mask[2] = { "gcdatamask", "gcbssmask" };
	uint64_t lo[2] = { v->data, v->bss }, hi[2] = { v->edata, v->ebss };
	for (int s = 0; s < 2; s++) {
		uint64_t o = off_or(T->L, "runtime.moduledata", mask[s]);
		if (o == ~0ull || o + 16 > mdsize || hi[s] < lo[s])
			continue;
		uint64_t nbits = le32(md + o), bytes = le64(md + o + 8), words = (hi[s] - lo[s]) / 8;
		if (nbits > words)
			nbits = words;
		size_t nb = (size_t)(nbits + 7) / 8;
		unsigned char *bits = malloc(nb ? nb : 1);
		if (!bits || (nb && target_read(T->t, bytes, bits, nb))) {
			free(bits);
			continue;
		}
		for (uint64_t i = 0; i < nbits && T->info->globals < MAX_GLOBALS; i++) {
			if (!(bits[i / 8] >> (i % 8) & 1))
				continue;
			uint64_t a = lo[s] + 8 * i;
			if (v->mheap && a >= v->mheap && a < v->mheap + v->mheap_size)
				continue;   /* the allocator's metadata: enumerated, not followed */
			char *n = NULL;
			if (asprintf(&n, "global at 0x%" PRIx64 " (%s)", a, s ? ".bss" : ".data") < 0 ||
			    !keep(T, n))
				break;
			gtb_add_var(T->b, n, a - T->bias, global_type(T, S, a));
			T->info->globals++;
		}
		free(bits);
	}
}

/* ---- the module --------------------------------------------------------- */

/* .go.buildinfo: "\xff Go buildinf:", pointer size, flags; with flag 2 the
 * version follows as a uvarint-prefixed string at offset 32 (Go 1.18+). */
/* The first writable segment: where .go.buildinfo and the module data
 * are when there are no section headers to say so. */
static bool data_segment(const struct target *t, uint64_t *lo, uint64_t *hi)
{
	const struct elffile *f = target_exe_file(t);
	struct elf_load ld[16];
	size_t n = f ? elffile_loads(f, ld, 16) : 0;

	for (size_t i = 0; i < n; i++)
		if ((ld[i].flags & PF_W) && ld[i].memsz) {
			*lo = ld[i].vaddr + target_exe_bias(t);
			*hi = *lo + (ld[i].filesz < (1ull << 30) ? ld[i].filesz : 0);
			return true;
		}
	return false;
}

/* .go.buildinfo: "\xff Go buildinf:", pointer size, flags; with flag 2 the
 * version follows as a uvarint-prefixed string at offset 32 (Go 1.18+).
 * The section, or the first 64 KiB of data, 16-aligned. */
static int read_buildinfo(const struct target *t, char *version, size_t n)
{
	const struct elffile *f = target_exe_file(t);
	const struct elf_section *s = f ? elffile_section(f, ".go.buildinfo") : NULL;
	unsigned char b[32 + 2 + 256];
	uint64_t a = s ? s->addr + target_exe_bias(t) : 0, lo = 0, hi = 0;

	if (!a && data_segment(t, &lo, &hi))
		for (uint64_t x = (lo + 15) & ~15ull; x + sizeof b <= hi && x < lo + 65536; x += 16)
			if (!target_read(t, x, b, 14) && !memcmp(b, "\xff Go buildinf:", 14)) {
				a = x;
				break;
			}
	if (!a || target_read(t, a, b, sizeof b) || memcmp(b, "\xff Go buildinf:", 14) ||
	    b[14] != 8 || !(b[15] & 2))
		return -1;
	size_t len = b[32];
	if (len & 0x80 || !len || len >= n || len > 256)
		return -1;
	memcpy(version, b + 33, len);
	version[len] = 0;
	for (size_t i = 0; i < len; i++)
		if (version[i] < 0x20 || version[i] > 0x7e)
			return -1;
	return 0;
}

/* runtime.firstmoduledata: its first field points at the pclntab header
 * and its second at that table's function names.  In the sections that
 * hold it (.go.module since Go 1.24, .noptrdata before), or anywhere in
 * the data segment. */
static uint64_t find_moduledata(const struct target *t, uint64_t pcln)
{
	const struct elffile *f = target_exe_file(t);
	static const char *const where[] = { ".go.module", ".noptrdata", ".data" };
	unsigned char h[40];
	uint64_t bias = target_exe_bias(t), lo, hi;

	if (target_read(t, pcln, h, sizeof h))
		return 0;
	uint64_t names = pcln + le64(h + 32);   /* header.funcnameOffset */
	for (size_t i = 0; i <= sizeof where / sizeof where[0]; i++) {
		const struct elf_section *s = NULL;
		if (i < sizeof where / sizeof where[0]) {
			if (!f || !(s = elffile_section(f, where[i])) || !s->addr)
				continue;
			lo = s->addr + bias;
			hi = lo + s->size;
		} else if (!data_segment(t, &lo, &hi)) {
			break;
		}
		for (uint64_t a = (lo + 7) & ~7ull; a + 16 <= hi; a += 8) {
			uint64_t w[2];
			if (!target_read(t, a, w, 16) && w[0] == pcln && w[1] == names)
				return a;
		}
	}
	return 0;
}

static int add_funcs(struct td *T, const struct pclntab *p, const struct sites *S)
{
	size_t n;
	const struct pcfunc *f = pclntab_funcs(p, &n);
	struct gcfa_row rows[MAX_CFA_ROWS];

	for (size_t i = 0; i < n; i++) {
		gtb_func h;
		if (f[i].end <= f[i].entry)
			continue;
		if (gtb_add_func(T->b, f[i].name, f[i].entry - T->bias, f[i].end - T->bias, &h))
			continue;
		/* The frame slots the code passes to the map functions. */
		for (size_t k = 0; k < S->nl; k++) {
			if (S->l[k].entry != f[i].entry)
				continue;
			char *nm = NULL;
			struct gpiece pc = { GPIECE_CFA, S->l[k].cfa_off, 0 };
			struct gtb_range r = { f[i].entry - T->bias, f[i].end - T->bias, &pc, 1 };
			if (asprintf(&nm, "(cfa%" PRId64 ")", S->l[k].cfa_off) < 0 || !keep(T, nm))
				continue;
			uint64_t key = S->l[k].type;
			if (key >> 56 == T_PTRTO)
				key = ptr_to(T, key & ((1ull << 56) - 1));
			gtb_add_local(T->b, h, nm, key, false, &r, 1);
		}
		int nr = pclntab_cfa_rows(p, &f[i], rows, MAX_CFA_ROWS);
		if (nr > 0)
			gtb_add_cfa(T->b, f[i].entry - T->bias, f[i].end - T->bias, rows, (size_t)nr);
	}
	T->info->functions = n;
	return 0;
}

static int parse_minor(const char *v)
{
	const char *p = strstr(v, "go1.");
	return p ? atoi(p + 4) : -1;
}

struct gtypes *typedesc_load(const struct target *t, struct typedesc_info *info,
			     struct ms_error *err)
{
	struct td T = { .t = t, .err = err, .info = info, .bias = target_exe_bias(t),
			.budget = 1u << 20 };
	struct pclntab *pc = NULL;
	struct gtypes *g = NULL;
	const char *exe = target_exe_name(t);
	unsigned char md[4096];

	memset(info, 0, sizeof *info);
	/* The map calls are found in x86-64 code (is_map_call and after). */
	if (target_arch(t) != &arch_amd64) {
		ms_err(err, MS_ENODWARF, "%s has no debug information (DWARF), and without it mapscan "
		       "reads x86-64 programs only (this is %s); pass a debug copy of this build "
		       "with --debug-file, or an unstripped build with --exe", exe, target_arch(t)->name);
		return NULL;
	}
	if (read_buildinfo(t, info->version, sizeof info->version)) {
		ms_err(err, MS_ENOTGO, "%s: no Go build information (.go.buildinfo) mapscan can read; "
		       "mapscan needs Go 1.19 or later, and without DWARF a .go.buildinfo section",
		       exe);
		return NULL;
	}
	int minor = parse_minor(info->version);
	const struct golayout_variant *v = golayout_variant(minor, info->version, &info->newer);
	if (!v) {
		ms_err(err, MS_ENOTGO, "%s: built with %s; mapscan reads Go 1.19 and later",
		       exe, info->version);
		return NULL;
	}
	info->layout = v->id;
	if (!(T.L = golayout_load(v, err)))
		return NULL;
	if (desc_layout_init(&T.D, T.L, v->minor) < 0) {
		ms_err(err, MS_EINTERNAL, "the layout table of %s lacks the type descriptors' "
		       "layout (regenerate it with tools/gen-layouts.py)", v->id);
		goto out;
	}
	uint64_t pcln = pclntab_find(t);
	T.md = pcln ? find_moduledata(t, pcln) : 0;
	const struct gl_type *mdt = golayout_type(T.L, "runtime.moduledata");
	if (!T.md || !mdt || mdt->size > sizeof md || target_read(t, T.md, md, mdt->size)) {
		ms_err(err, MS_ENOTGO, "%s: no Go function table and module data (runtime."
		       "firstmoduledata) mapscan can find%s", exe,
		       pcln ? "" : " (.gopclntab)");
		goto out;
	}
#define MD(field) (off_or(T.L, "runtime.moduledata", field) + 8 <= mdt->size \
		   ? le64(md + off_or(T.L, "runtime.moduledata", field)) : 0)
	T.types = MD("types");
	T.etypes = MD("etypes");
	T.text = MD("text");
	T.etext = MD("etext");
	struct vars vs = { .data = MD("data"), .edata = MD("edata"), .bss = MD("bss"),
			   .ebss = MD("ebss"), .noptrbss = MD("noptrbss"),
			   .enoptrbss = MD("enoptrbss"), .noptrdata = MD("noptrdata"),
			   .enoptrdata = MD("enoptrdata") };
#undef MD
	if (!T.types || T.etypes <= T.types || T.etypes - T.types > MAX_TYPES_REGION ||
	    !(T.tb = malloc(T.etypes - T.types)) || target_read(t, T.types, T.tb, T.etypes - T.types)) {
		ms_err(err, MS_ENOTGO, "%s: the type descriptors (runtime.firstmoduledata.types at "
		       "0x%" PRIx64 ") are not in the image", exe, T.types);
		goto out;
	}
	if (!(pc = pclntab_open(t, pcln, T.text, err)))
		goto out;
	if (!(T.b = gtb_new()) || collect(&T) < 0) {
		ms_err(err, MS_EINTERNAL, "out of memory");
		goto out;
	}
	add_layout_types(&T);
	for (size_t i = 0; i < T.ndescs; i++)
		add_desc(&T, &T.descs[i]);
	info->descriptors = T.ndescs;
	struct sites S = { 0 };
	find_vars(&T, &vs, info->version);
	scan_code(&T, pc, &vs, &S);
	add_funcs(&T, pc, &S);

	gtb_add_var(T.b, "runtime.firstmoduledata", T.md - T.bias, lkey(&T, "runtime.moduledata"));
	const struct gl_type *vt;
	if (vs.mheap && (vt = golayout_var_type(T.L, "runtime.mheap_")))
		gtb_add_var(T.b, "runtime.mheap_", vs.mheap - T.bias, lkey(&T, vt->name));
	if (vs.allgs && (vt = golayout_var_type(T.L, "runtime.allgs")))
		gtb_add_var(T.b, "runtime.allgs", vs.allgs - T.bias, lkey(&T, vt->name));
	if (vs.allm && (vt = golayout_var_type(T.L, "runtime.allm")))
		gtb_add_var(T.b, "runtime.allm", vs.allm - T.bias, lkey(&T, vt->name));
	if (vs.version && (vt = golayout_var_type(T.L, "runtime.buildVersion")))
		gtb_add_var(T.b, "runtime.buildVersion", vs.version - T.bias, lkey(&T, vt->name));
	static const char *const sizes[] = { "runtime.class_to_size", "internal/runtime/gc.SizeClassToSize" };
	for (size_t i = 0; vs.sizes && i < 2; i++)
		if ((vt = golayout_var_type(T.L, sizes[i])))
			gtb_add_var(T.b, sizes[i], vs.sizes - T.bias, lkey(&T, vt->name));
	info->heap = vs.mheap != 0;
	info->goroutines = vs.allgs != 0;
	add_globals(&T, &vs, md, mdt->size, &S);
	free(S.g);
	free(S.l);
	g = gtb_finish(T.b, exe, err);
	T.b = NULL;
out:
	gtb_free(T.b);
	pclntab_free(pc);
	golayout_free(T.L);
	free(T.tb);
	free(T.descs);
	free(T.queue);
	wordset_free(&T.seen);
	for (size_t i = 0; i < T.nstrs; i++)
		free(T.strs[i]);
	free(T.strs);
	return g;
}
