/* Runtime type descriptors; see rtype.h. */
#include <stdlib.h>
#include <string.h>

#include "rtype.h"

enum {
	KIND_MAP = 21,            /* abi.Map */
	KIND_MASK = 0x1f,         /* up to Go 1.25 the byte also carries flags above */
	TFLAG_EXTRA_STAR = 2,     /* the name has a '*' the type does not */
	CLASSIC_INDIRECT_KEY = 1, CLASSIC_INDIRECT_ELEM = 2,
	SWISS_INDIRECT_KEY = 4, SWISS_INDIRECT_ELEM = 8,
	MAX_DESC = 512,           /* bytes of a map descriptor we read */
	MAX_GROUP = 1 << 16,      /* keys and elems over 128 bytes are indirect */
	SLOTS = 8,                /* slots per bucket or group */
	CTRL = 8,                 /* a Swiss group's control word */
};

/* Offset of the first of names[] that st has; false if none. */
static bool field(const struct gtypes *g, type_id st, const char *const *names, uint64_t *off)
{
	for (; *names; names++) {
		const struct gmember *m = gtypes_member(g, st, *names);
		if (m) {
			*off = m->offset;
			return true;
		}
	}
	return false;
}

static type_id first_type(const struct gtypes *g, const char *const *names, const char *need)
{
	for (; *names; names++) {
		type_id id = gtypes_find(g, *names);
		if (id && (!need || gtypes_member(g, id, need)))
			return id;
	}
	return 0;
}

#define F(...) ((const char *const[]){ __VA_ARGS__, NULL })

void rtype_layout_init(struct rtype_layout *L, const struct gtypes *g, enum map_layout layout)
{
	memset(L, 0, sizeof(*L));
	L->layout = layout;
	type_id ty = first_type(g, F("internal/abi.Type", "runtime._type"), NULL);
	const struct gtype *tt = gtypes_get(g, ty);
	if (!tt || !field(g, ty, F("Size_", "size"), &L->size) ||
	    !field(g, ty, F("PtrBytes", "ptrdata"), &L->ptrbytes) ||
	    !field(g, ty, F("TFlag", "tflag"), &L->tflag) ||
	    !field(g, ty, F("Kind_", "kind"), &L->kind) ||
	    !field(g, ty, F("Str", "str"), &L->str))
		return;
	L->type_size = tt->size;
	type_id mt;
	bool ok;
	if (layout == LAYOUT_SWISS) {
		mt = first_type(g, F("internal/abi.MapType", "internal/abi.SwissMapType"), "GroupSize");
		ok = mt && field(g, mt, F("Group"), &L->group) &&
		     field(g, mt, F("GroupSize"), &L->groupsize);
		L->strides = mt && field(g, mt, F("KeysOff"), &L->keysoff) &&
			     field(g, mt, F("KeyStride"), &L->keystride) &&
			     field(g, mt, F("ElemsOff"), &L->elemsoff) &&
			     field(g, mt, F("ElemStride"), &L->elemstride);
		if (!L->strides)
			ok = ok && field(g, mt, F("SlotSize"), &L->slotsize) &&
			     field(g, mt, F("ElemOff"), &L->elemoff);
	} else {
		mt = first_type(g, F("internal/abi.OldMapType", "internal/abi.MapType", "runtime.maptype"),
				NULL);
		if (mt && !gtypes_member(g, mt, "BucketSize") && !gtypes_member(g, mt, "bucketsize"))
			mt = first_type(g, F("internal/abi.OldMapType", "runtime.maptype"), NULL);
		ok = mt && field(g, mt, F("Bucket", "bucket"), &L->group) &&
		     field(g, mt, F("KeySize", "keysize"), &L->keysize) &&
		     field(g, mt, F("ValueSize", "elemsize", "valuesize"), &L->valuesize) &&
		     field(g, mt, F("BucketSize", "bucketsize"), &L->bucketsize);
	}
	const struct gtype *m = gtypes_get(g, mt);
	ok = ok && m && m->size <= MAX_DESC && field(g, mt, F("Key", "key"), &L->key) &&
	     field(g, mt, F("Elem", "elem"), &L->elem) && field(g, mt, F("Flags", "flags"), &L->flags);
	if (!ok)
		return;
	L->map_size = m->size;
	L->ok = L->type_size >= L->str + 4 && L->map_size >= L->flags + 4;
}

static bool in_types(const struct goruntime *rt, uint64_t p)
{
	return rt->types && p >= rt->types && p < rt->etypes && !(p & 7);
}

/* A type descriptor's size and pointer bytes. */
static int desc_sizes(const struct target *t, const struct goruntime *rt,
		      const struct rtype_layout *L, uint64_t desc, uint64_t *size, uint64_t *ptr)
{
	if (!in_types(rt, desc) || target_read_u64(t, desc + L->size, size) ||
	    target_read_u64(t, desc + L->ptrbytes, ptr) || *ptr > *size)
		return -1;
	return 0;
}

int rtype_map(const struct target *t, const struct goruntime *rt, const struct rtype_layout *L,
	      uint64_t desc, struct rmap *m)
{
	unsigned char b[MAX_DESC];
	memset(m, 0, sizeof(*m));
	if (!L->ok || !in_types(rt, desc) || target_read(t, desc, b, L->map_size) ||
	    (b[L->kind] & KIND_MASK) != KIND_MAP || le64(b + L->size) != 8 || le64(b + L->ptrbytes) != 8)
		return -1;
	m->desc = desc;
	m->key = le64(b + L->key);
	m->elem = le64(b + L->elem);
	m->group = le64(b + L->group);
	uint32_t flags = le32(b + L->flags);
	uint64_t gsize, gptr, kptr, eptr;
	if (desc_sizes(t, rt, L, m->key, &m->key_size, &kptr) ||
	    desc_sizes(t, rt, L, m->elem, &m->elem_size, &eptr) ||
	    desc_sizes(t, rt, L, m->group, &gsize, &gptr) || !gsize || gsize > MAX_GROUP)
		return -1;
	m->group_size = gsize;
	m->noscan = gptr == 0;
	if (L->layout == LAYOUT_CLASSIC) {
		uint64_t ks = b[L->keysize], vs = b[L->valuesize], bs = le_u(b + L->bucketsize, 2);
		m->key_indirect = flags & CLASSIC_INDIRECT_KEY;
		m->elem_indirect = flags & CLASSIC_INDIRECT_ELEM;
		if (bs != gsize || ks != (m->key_indirect ? 8 : m->key_size) ||
		    vs != (m->elem_indirect ? 8 : m->elem_size))
			return -1;
		m->key_off = SLOTS;                      /* after tophash [8]uint8 */
		m->elem_off = SLOTS + SLOTS * ks;
		m->key_stride = ks;
		m->elem_stride = vs;
		/* ..., then the overflow pointer in the last word */
		if (m->elem_off + SLOTS * vs + 8 > bs)
			return -1;
		return 0;
	}
	m->key_indirect = flags & SWISS_INDIRECT_KEY;
	m->elem_indirect = flags & SWISS_INDIRECT_ELEM;
	if (le64(b + L->groupsize) != gsize)
		return -1;
	if (L->strides) {
		m->key_off = le64(b + L->keysoff);
		m->key_stride = le64(b + L->keystride);
		m->elem_off = le64(b + L->elemsoff);
		m->elem_stride = le64(b + L->elemstride);
	} else {
		uint64_t slot = le64(b + L->slotsize), eo = le64(b + L->elemoff);
		if (gsize != CTRL + SLOTS * slot || eo > slot)
			return -1;
		m->key_off = CTRL;
		m->elem_off = CTRL + eo;
		m->key_stride = m->elem_stride = slot;
	}
	uint64_t kslot = m->key_indirect ? 8 : m->key_size, eslot = m->elem_indirect ? 8 : m->elem_size;
	if (m->key_stride > MAX_GROUP || m->elem_stride > MAX_GROUP || m->key_off > gsize ||
	    m->elem_off > gsize || m->key_off + 7 * m->key_stride + kslot > gsize ||
	    m->elem_off + 7 * m->elem_stride + eslot > gsize)
		return -1;
	return 0;
}

int rtype_name(const struct target *t, const struct goruntime *rt, const struct rtype_layout *L,
	       uint64_t desc, char *buf, size_t n)
{
	unsigned char hdr[16], tflag;
	int32_t off;
	if (!n)
		return -1;
	buf[0] = 0;
	if (!L->ok || !in_types(rt, desc) || target_read(t, desc + L->tflag, &tflag, 1) ||
	    target_read(t, desc + L->str, &off, 4) || off <= 0 ||
	    rt->types + (uint64_t)off >= rt->etypes)
		return -1;
	/* A name: one byte of flags, a uvarint length, the bytes. */
	uint64_t at = rt->types + (uint64_t)off, len = 0;
	uint64_t avail = rt->etypes - at < sizeof(hdr) ? rt->etypes - at : sizeof(hdr);
	if (avail < 2 || target_read(t, at, hdr, avail))
		return -1;
	unsigned i = 1, shift = 0;
	for (; i < avail && shift < 28; i++, shift += 7) {
		len |= (uint64_t)(hdr[i] & 0x7f) << shift;
		if (!(hdr[i] & 0x80))
			break;
	}
	if (i >= avail || !len || len > rt->etypes - at - i - 1)
		return -1;
	uint64_t from = at + i + 1, k = len < n - 1 ? len : n - 1;
	if ((tflag & TFLAG_EXTRA_STAR) && len > 1) {
		from++;
		k = len - 1 < n - 1 ? len - 1 : n - 1;
	}
	if (target_read(t, from, buf, k))
		return -1;
	buf[k] = 0;
	for (uint64_t j = 0; j < k; j++)
		if ((unsigned char)buf[j] < 0x20 || buf[j] == 0x7f)
			buf[j] = '?';
	return 0;
}

size_t rtype_each_map(const struct target *t, const struct goruntime *rt,
		      const struct rtype_layout *L, rmap_fn fn, void *arg)
{
	enum { CHUNK = 1 << 16 };
	unsigned char *buf;
	size_t found = 0;
	if (!L->ok || !rt->types || rt->etypes <= rt->types || !(buf = malloc(CHUNK)))
		return 0;
	/* Descriptors are pointer-aligned; a map's starts with Size_ = 8 and
	 * PtrBytes = 8, and its kind byte says Map: cheap to test in place,
	 * before the full check. */
	uint64_t lo = (rt->types + 7) & ~7ull;
	for (uint64_t base = lo; base < rt->etypes; base += CHUNK - MAX_DESC) {
		uint64_t n = rt->etypes - base < CHUNK ? rt->etypes - base : CHUNK;
		if (target_read(t, base, buf, n))
			continue;
		uint64_t last = n > MAX_DESC ? n - MAX_DESC : n;
		if (base + CHUNK >= rt->etypes)
			last = n;
		for (uint64_t k = 0; k + L->type_size <= n && k < last; k += 8) {
			struct rmap m;
			if (le64(buf + k + L->size) != 8 || le64(buf + k + L->ptrbytes) != 8 ||
			    (buf[k + L->kind] & KIND_MASK) != KIND_MAP)
				continue;
			if (rtype_map(t, rt, L, base + k, &m) == 0) {
				found++;
				fn(arg, &m);
			}
		}
		if (n < CHUNK)
			break;
	}
	free(buf);
	return found;
}
