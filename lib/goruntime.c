/* Go runtime facts, read from the target's DWARF and memory.
 *
 * DWARF gives every layout; what it cannot give (names of a few runtime
 * variables that moved between versions, the allocator's constants, the
 * maps' load factors) is in `go_facts` below, one row per range of Go
 * versions.  Nothing else in mapscan compares version numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goruntime.h"

/* Facts every version shares (every 64-bit port). */
static const struct {
	uint64_t page_size;            /* runtime._PageSize */
	uint64_t malloc_header;        /* Go 1.22+: mallocHeaderSize */
	uint64_t min_header_size;      /* Go 1.22+: objects above get a header */
	uint64_t max_small;            /* _MaxSmallSize */
} facts = { 8192, 8, 512, 32768 };

/* Facts that differ by version.  Rows are searched in order; the first
 * whose [first, last] range holds the target's minor version wins, and a
 * version mapscan does not know takes the newest row. */
static const struct go_facts go_facts[] = {
	/* Go 1.21 computes loadFactorNum as (bucketCnt*13/16)*loadFactorDen
	 * in integers: 6 per bucket, not 6.5 (src/runtime/map.go). */
	{ 21, 21, 12, 2, 7, 8, 1024, { "runtime.class_to_size", NULL } },
	{ 0, 24, 13, 2, 7, 8, 1024, { "runtime.class_to_size", NULL } },
	/* 1.25 moved the size classes to internal/runtime/gc. */
	{ 25, 999, 13, 2, 7, 8, 1024,
	  { "internal/runtime/gc.SizeClassToSize", "runtime.class_to_size" } },
};

int goversion_parse(const char *s, struct go_version *v)
{
	memset(v, 0, sizeof(*v));
	/* "go1.26.8", "go1.27.3-X:mapsplitgroup", "go1.24.11 X:noswissmap",
	 * "devel go1.27-abc123 ...", "go1.21rc2". */
	const char *p = s ? strstr(s, "go1.") : NULL;
	if (!p)
		return -1;
	char *end;
	long minor = strtol(p + 4, &end, 10);
	if (end == p + 4 || minor < 0 || minor > 999)
		return -1;
	v->major = 1;
	v->minor = (int)minor;
	if (*end == '.') {
		long patch = strtol(end + 1, &end, 10);
		v->patch = patch >= 0 && patch < 100000 ? (int)patch : 0;
	}
	v->known = true;
	return 0;
}

const struct go_facts *goversion_facts(const struct go_version *v)
{
	size_t n = sizeof(go_facts) / sizeof(go_facts[0]);
	if (!v || !v->known)
		return &go_facts[n - 1];
	for (size_t i = 0; i < n; i++)
		if (v->minor >= go_facts[i].first_minor && v->minor <= go_facts[i].last_minor)
			return &go_facts[i];
	return &go_facts[n - 1];
}

static const struct gtype *resolved(const struct gtypes *g, type_id id)
{
	return gtypes_get(g, gtypes_resolve(g, id));
}

static uint64_t type_size(const struct gtypes *g, type_id id)
{
	const struct gtype *t = resolved(g, id);
	return t ? t->size : 0;
}

/* Pointee of a pointer type (through typedefs), or 0. */
static type_id deref(const struct gtypes *g, type_id id)
{
	const struct gtype *t = resolved(g, id);
	return t && t->kind == GK_PTR ? t->target : 0;
}

static int read_version(struct goruntime *rt, const struct gtypes *g, const struct target *t)
{
	const struct gvar *v = gtypes_var(g, "runtime.buildVersion");
	uint64_t hdr[2];
	if (!v || target_read(t, v->addr + target_exe_bias(t), hdr, sizeof(hdr)))
		return -1;
	if (hdr[1] == 0 || hdr[1] >= sizeof(rt->version))
		return -1;
	if (target_read(t, hdr[0], rt->version, hdr[1]))
		return -1;
	rt->version[hdr[1]] = 0;
	for (size_t i = 0; i < hdr[1]; i++)
		if (rt->version[i] < 0x20 || rt->version[i] > 0x7e)
			rt->version[i] = '?';
	return 0;
}

static void read_size_classes(struct goruntime *rt, const struct gtypes *g, const struct target *t)
{
	for (size_t i = 0; i < 2 && rt->facts->size_classes[i]; i++) {
		const struct gvar *v = gtypes_var(g, rt->facts->size_classes[i]);
		const struct gtype *a = v ? resolved(g, v->type) : NULL;
		if (!a || a->kind != GK_ARRAY || type_size(g, a->elem) != 2 ||
		    a->count < 2 || a->count > 128)
			continue;
		if (target_read(t, v->addr + target_exe_bias(t), rt->class_to_size, a->count * 2))
			continue;
		/* Sanity: class 0 is 0 and sizes increase. */
		bool ok = rt->class_to_size[0] == 0;
		for (size_t c = 2; c < a->count && ok; c++)
			ok = rt->class_to_size[c] > rt->class_to_size[c - 1];
		if (ok) {
			rt->nclasses = (unsigned)a->count;
			return;
		}
	}
}

/* Where type descriptors are, to resolve interface values. */
static void read_moduledata(struct goruntime *rt, const struct gtypes *g, const struct target *t)
{
	const struct gvar *v = gtypes_var(g, "runtime.firstmoduledata");
	const struct gmember *ty = v ? gtypes_member(g, v->type, "types") : NULL;
	const struct gmember *ety = v ? gtypes_member(g, v->type, "etypes") : NULL;
	uint64_t lo, hi, base = v ? v->addr + target_exe_bias(t) : 0;
	if (!ty || !ety || target_read_u64(t, base + ty->offset, &lo) ||
	    target_read_u64(t, base + ety->offset, &hi) || !lo || hi <= lo)
		return;
	type_id itab = gtypes_find(g, "internal/abi.ITab");
	const struct gmember *m = itab ? gtypes_member(g, itab, "Type") : NULL;
	if (!m && (itab = gtypes_find(g, "runtime.itab")))
		m = gtypes_member(g, itab, "_type");
	if (!m)
		return;
	rt->types = lo;
	rt->etypes = hi;
	rt->itab_type_off = m->offset;
}

int goruntime_init(struct goruntime *rt, const struct gtypes *g, const struct target *t,
		   struct ms_error *err)
{
	memset(rt, 0, sizeof(*rt));
	bool have_swiss = gtypes_find(g, "internal/runtime/maps.Map") != 0;
	bool have_classic = gtypes_find(g, "runtime.hmap") != 0;
	if (read_version(rt, g, t) != 0) {
		if (!have_swiss && !have_classic)
			return ms_err(err, MS_ENOTGO, "%s: not a Go program (no runtime.buildVersion "
				      "in its DWARF); mapscan analyses cores of Go programs only",
				      target_exe_path(t));
		snprintf(rt->version, sizeof(rt->version), "unknown");
	}
	goversion_parse(rt->version, &rt->go);
	rt->facts = goversion_facts(&rt->go);
	if (have_swiss && have_classic)
		rt->layout = strstr(rt->version, "noswissmap") ? LAYOUT_CLASSIC : LAYOUT_SWISS;
	else if (have_swiss)
		rt->layout = LAYOUT_SWISS;
	else if (have_classic)
		rt->layout = LAYOUT_CLASSIC;
	else
		return ms_err(err, MS_ENOTGO, "%s: neither runtime.hmap nor internal/runtime/maps.Map "
			      "is in the DWARF; this Go version's maps are not supported",
			      target_exe_path(t));
	type_id span = gtypes_find(g, "runtime.mspan");
	rt->alloc_headers = span && gtypes_member(g, span, "largeType") != NULL;
	read_size_classes(rt, g, t);
	read_moduledata(rt, g, t);
	return 0;
}

uint64_t goruntime_roundup(const struct goruntime *rt, uint64_t n, bool noscan)
{
	uint64_t req = n;
	if (rt->alloc_headers && !noscan && n > facts.min_header_size &&
	    n <= facts.max_small - facts.malloc_header)
		req += facts.malloc_header;
	if (req <= facts.max_small && rt->nclasses && rt->class_to_size[rt->nclasses - 1] >= req) {
		/* the smallest class that holds req (sizes increase) */
		unsigned lo = 1, hi = rt->nclasses - 1;
		while (lo < hi) {
			unsigned mid = (lo + hi) / 2;
			if (rt->class_to_size[mid] >= req)
				hi = mid;
			else
				lo = mid + 1;
		}
		return rt->class_to_size[lo] - (req - n);
	}
	if (!rt->nclasses && req <= facts.max_small)
		return n; /* size classes unknown: no rounding (reported by the caller) */
	if (n > UINT64_MAX - facts.page_size)
		return n;
	return (n + facts.page_size - 1) & ~(facts.page_size - 1);
}

/* ---- map type descriptors ---------------------------------------------- */

#define NEED(cond, what)                                                         \
	do {                                                                     \
		if (!(cond))                                                     \
			return ms_err(err, MS_ENOTGO, "map type %s: unexpected DWARF " \
				      "layout (%s); this Go version is not supported",  \
				      name, what);                               \
	} while (0)

static int member_off(const struct gtypes *g, type_id st, const char *field, uint64_t *off,
		      type_id *type)
{
	const struct gmember *m = gtypes_member(g, st, field);
	if (!m)
		return -1;
	*off = m->offset;
	if (type)
		*type = m->type;
	return 0;
}

/* An array of 8 slots stored as T or as *T (indirect); returns the stride
 * and whether it is indirect, comparing with the Go type `go_type`. */
static int slot_array(const struct gtypes *g, type_id arr, type_id go_type, uint64_t *stride,
		      bool *indirect)
{
	const struct gtype *a = resolved(g, arr);
	if (!a || a->kind != GK_ARRAY || a->count != 8)
		return -1;
	*stride = a->size / 8;
	*indirect = a->elem != go_type && deref(g, a->elem) == go_type;
	return 0;
}

static int describe_classic(struct maptype *mt, const struct gtypes *g, type_id hdr,
			    const char *name, struct ms_error *err)
{
	type_id bptr = 0, xptr = 0, arr = 0;
	NEED(!member_off(g, hdr, "count", &mt->off_count, NULL), "hmap.count");
	NEED(!member_off(g, hdr, "flags", &mt->off_flags, NULL), "hmap.flags");
	NEED(!member_off(g, hdr, "B", &mt->off_B, NULL), "hmap.B");
	NEED(!member_off(g, hdr, "buckets", &mt->off_buckets, &bptr), "hmap.buckets");
	NEED(!member_off(g, hdr, "oldbuckets", &mt->off_oldbuckets, NULL), "hmap.oldbuckets");
	NEED(!member_off(g, hdr, "extra", &mt->off_extra, &xptr), "hmap.extra");
	type_id bucket = deref(g, bptr);
	const struct gtype *b = resolved(g, bucket);
	NEED(b && b->kind == GK_STRUCT && b->size > 8, "bucket type");
	mt->bucket_size = b->size;
	mt->bucket = bucket;
	NEED(!member_off(g, bucket, "keys", &mt->keys_off, &arr), "bucket.keys");
	NEED(!slot_array(g, arr, mt->key, &mt->key_stride, &mt->key_indirect), "bucket keys array");
	NEED(!member_off(g, bucket, "values", &mt->vals_off, &arr), "bucket.values");
	NEED(!slot_array(g, arr, mt->elem, &mt->val_stride, &mt->elem_indirect), "bucket values array");
	NEED(!member_off(g, bucket, "overflow", &mt->ovf_off, NULL), "bucket.overflow");
	NEED(mt->ovf_off + 8 <= mt->bucket_size && mt->vals_off + 8 * mt->val_stride <= mt->ovf_off,
	     "bucket member offsets");
	type_id extra = deref(g, xptr);
	const struct gtype *x = resolved(g, extra);
	NEED(x && x->kind == GK_STRUCT, "mapextra type");
	mt->extra_size = x->size;
	NEED(!member_off(g, extra, "overflow", &mt->off_x_overflow, NULL), "mapextra.overflow");
	NEED(!member_off(g, extra, "oldoverflow", &mt->off_x_oldoverflow, NULL), "mapextra.oldoverflow");
	NEED(!member_off(g, extra, "nextOverflow", &mt->off_x_next, NULL), "mapextra.nextOverflow");
	mt->noscan = !gtypes_has_pointers(g, mt->key) && !gtypes_has_pointers(g, mt->elem);
	return 0;
}

static int describe_swiss(struct maptype *mt, const struct gtypes *g, type_id hdr,
			  const char *name, struct ms_error *err)
{
	type_id dptr = 0, groups = 0, data = 0, slots = 0;
	NEED(!member_off(g, hdr, "used", &mt->off_count, NULL), "Map.used");
	NEED(!member_off(g, hdr, "dirPtr", &mt->off_dirptr, &dptr), "Map.dirPtr");
	NEED(!member_off(g, hdr, "dirLen", &mt->off_dirlen, NULL), "Map.dirLen");
	type_id table = deref(g, deref(g, dptr));
	const struct gtype *tt = resolved(g, table);
	NEED(tt && tt->kind == GK_STRUCT, "table type");
	mt->table_size = tt->size;
	NEED(!member_off(g, table, "used", &mt->t_used, NULL), "table.used");
	NEED(!member_off(g, table, "capacity", &mt->t_capacity, NULL), "table.capacity");
	NEED(!member_off(g, table, "index", &mt->t_index, NULL), "table.index");
	NEED(!member_off(g, table, "groups", &mt->t_groups, &groups), "table.groups");
	uint64_t data_off = 0, mask_off = 0;
	NEED(!member_off(g, groups, "data", &data_off, &data), "groupReference.data");
	NEED(!member_off(g, groups, "lengthMask", &mask_off, NULL), "groupReference.lengthMask");
	mt->t_mask = mt->t_groups + mask_off;
	mt->t_groups += data_off;
	type_id group = deref(g, data);
	const struct gtype *gt = resolved(g, group);
	NEED(gt && gt->kind == GK_STRUCT && gt->size > 8, "group type");
	mt->group_size = gt->size;
	mt->bucket = group;
	NEED(!member_off(g, group, "ctrl", &mt->ctrl_off, NULL), "group.ctrl");
	uint64_t soff = 0;
	if (!member_off(g, group, "slots", &soff, &slots)) {
		/* Interleaved: [8]struct{key K; elem V}. */
		const struct gtype *a = resolved(g, slots);
		NEED(a && a->kind == GK_ARRAY && a->count == 8, "group.slots array");
		type_id slot = a->elem;
		uint64_t ko = 0, eo = 0;
		type_id kt = 0, et = 0;
		NEED(!member_off(g, slot, "key", &ko, &kt) && !member_off(g, slot, "elem", &eo, &et),
		     "slot key/elem");
		mt->key_off = soff + ko;
		mt->elem_off = soff + eo;
		mt->key_stride = mt->val_stride = a->size / 8;
		mt->key_indirect = kt != mt->key && deref(g, kt) == mt->key;
		mt->elem_indirect = et != mt->elem && deref(g, et) == mt->elem;
	} else {
		/* Go 1.27 GOEXPERIMENT=mapsplitgroup: keys [8]K then elems [8]V. */
		type_id ka = 0, ea = 0;
		NEED(!member_off(g, group, "keys", &mt->key_off, &ka) &&
		     !member_off(g, group, "elems", &mt->elem_off, &ea), "group.slots or keys/elems");
		NEED(!slot_array(g, ka, mt->key, &mt->key_stride, &mt->key_indirect), "group keys");
		NEED(!slot_array(g, ea, mt->elem, &mt->val_stride, &mt->elem_indirect), "group elems");
	}
	NEED(mt->key_off + 8 * mt->key_stride <= mt->group_size || mt->key_stride == 0, "slot offsets");
	mt->noscan = !gtypes_has_pointers(g, group);
	return 0;
}

int maptype_describe(struct maptype *mt, const struct gtypes *g, type_id map_type,
		     struct ms_error *err)
{
	const struct gtype *m = gtypes_get(g, map_type);
	const char *name = m ? m->name : "?";
	memset(mt, 0, sizeof(*mt));
	NEED(m && m->kind == GK_MAP, "not a map type");
	mt->type = map_type;
	mt->key = m->key;
	mt->elem = m->elem;
	type_id hdr = deref(g, m->target);
	const struct gtype *h = resolved(g, hdr);
	NEED(h && h->kind == GK_STRUCT, "header type");
	mt->hdr_size = h->size;
	if (!strncmp(h->name, "hash<", 5) || gtypes_member(g, hdr, "buckets")) {
		mt->layout = LAYOUT_CLASSIC;
		return describe_classic(mt, g, hdr, name, err);
	}
	mt->layout = LAYOUT_SWISS;
	return describe_swiss(mt, g, hdr, name, err);
}
