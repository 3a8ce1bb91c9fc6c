/* dwarfinfo.c — libdw lookups of C types and enumerators by name.
 *
 * Walking every compile unit per lookup cost about 0.1 s per question on
 * a 20 MB libpython, and a layout asks a few hundred.  So the first lookup
 * walks the top level of every CU once and keeps two hash tables: type
 * name → the DIE of its definition, enumerator name → value.
 */
#include "dwarfinfo.h"

#include "../common/error.h"

#include <elfutils/libdw.h>
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct type_slot {
	const char *name;            /* borrowed from the DWARF string data */
	Dwarf_Die die;               /* typedefs followed: the struct, union, … */
};

struct enum_slot {
	const char *name;
	int64_t value;
};

/* A typedef whose target is only declared in its CU ("typedef struct _is
 * PyInterpreterState;" without the internal header): resolved through the
 * tag's definition elsewhere once every CU has been seen. */
struct pending_typedef {
	const char *name;
	const char *tag;
};

struct pc_dwarf {
	int fd;
	Dwarf *dw;
	bool indexed;
	struct type_slot *types;     /* open addressing, power-of-two sized */
	size_t ntypes, captypes;
	struct enum_slot *enums;
	size_t nenums, capenums;
	struct pending_typedef *pending;
	size_t npending, cappending;
};

struct pc_dwarf *dwarfinfo_open(const char *path)
{
	struct pc_dwarf *d = calloc(1, sizeof *d);

	if (!d) {
		pc_fail(PC_EINTERNAL, ENOMEM, "reading DWARF of %s", path);
		return NULL;
	}
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		pc_fail(PC_EINTERNAL, errno, "%s", path);
		free(d);
		return NULL;
	}
	d->dw = dwarf_begin(d->fd, DWARF_C_READ);
	if (!d->dw) {                 /* no debug info: a normal case */
		close(d->fd);
		free(d);
		return NULL;
	}
	return d;
}

void dwarfinfo_close(struct pc_dwarf *d)
{
	if (!d)
		return;
	dwarf_end(d->dw);
	close(d->fd);
	free(d->types);
	free(d->enums);
	free(d->pending);
	free(d);
}

/* ---- hash tables ---- */

static size_t hash_name(const char *s)
{
	size_t h = 14695981039346656037u;      /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static struct type_slot *type_slot(struct type_slot *v, size_t cap, const char *name)
{
	for (size_t i = hash_name(name) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!v[i].name || strcmp(v[i].name, name) == 0)
			return &v[i];
}

static struct enum_slot *enum_slot(struct enum_slot *v, size_t cap, const char *name)
{
	for (size_t i = hash_name(name) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!v[i].name || strcmp(v[i].name, name) == 0)
			return &v[i];
}

/* Keep the tables at most half full. */
static int grow_types(struct pc_dwarf *d)
{
	size_t cap = d->captypes ? 2 * d->captypes : 4096;
	struct type_slot *v = calloc(cap, sizeof *v);

	if (!v)
		return pc_fail(PC_EINTERNAL, ENOMEM, "indexing DWARF types");
	for (size_t i = 0; i < d->captypes; i++)
		if (d->types[i].name)
			*type_slot(v, cap, d->types[i].name) = d->types[i];
	free(d->types);
	d->types = v;
	d->captypes = cap;
	return 0;
}

static int grow_enums(struct pc_dwarf *d)
{
	size_t cap = d->capenums ? 2 * d->capenums : 1024;
	struct enum_slot *v = calloc(cap, sizeof *v);

	if (!v)
		return pc_fail(PC_EINTERNAL, ENOMEM, "indexing DWARF enumerators");
	for (size_t i = 0; i < d->capenums; i++)
		if (d->enums[i].name)
			*enum_slot(v, cap, d->enums[i].name) = d->enums[i];
	free(d->enums);
	d->enums = v;
	d->capenums = cap;
	return 0;
}

static struct type_slot *find_type_slot(struct pc_dwarf *d, const char *name)
{
	struct type_slot *s;
	if (!d->captypes)
		return NULL;
	s = type_slot(d->types, d->captypes, name);
	return s->name ? s : NULL;
}

/* First one wins: the same header type appears in hundreds of CUs. */
static int add_type(struct pc_dwarf *d, const char *name, const Dwarf_Die *die)
{
	struct type_slot *s;

	if (2 * (d->ntypes + 1) > d->captypes && grow_types(d) < 0)
		return -1;
	s = type_slot(d->types, d->captypes, name);
	if (!s->name) {
		s->name = name;
		s->die = *die;
		d->ntypes++;
	}
	return 0;
}

static int add_enum(struct pc_dwarf *d, const char *name, int64_t value)
{
	struct enum_slot *s;

	if (2 * (d->nenums + 1) > d->capenums && grow_enums(d) < 0)
		return -1;
	s = enum_slot(d->enums, d->capenums, name);
	if (!s->name) {
		s->name = name;
		s->value = value;
		d->nenums++;
	}
	return 0;
}

static int add_pending(struct pc_dwarf *d, const char *name, const char *tag)
{
	if (d->npending == d->cappending) {
		size_t cap = d->cappending ? 2 * d->cappending : 256;
		struct pending_typedef *v = realloc(d->pending, cap * sizeof *v);
		if (!v)
			return pc_fail(PC_EINTERNAL, ENOMEM, "indexing DWARF types");
		d->pending = v;
		d->cappending = cap;
	}
	d->pending[d->npending++] = (struct pending_typedef){ name, tag };
	return 0;
}

/* ---- the index ---- */

/* Follow typedefs and qualifiers down to the type itself. */
static int strip_type(Dwarf_Die *die)
{
	for (int hops = 0; hops < 32; hops++) {
		int tag = dwarf_tag(die);
		Dwarf_Attribute at;
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_atomic_type &&
		    tag != DW_TAG_restrict_type)
			return 0;
		if (!dwarf_attr_integrate(die, DW_AT_type, &at) || !dwarf_formref_die(&at, die))
			return -1;
	}
	return -1;
}

static int64_t type_size(Dwarf_Die *die)
{
	Dwarf_Word size;
	if (dwarf_hasattr_integrate(die, DW_AT_declaration))
		return -1;
	return dwarf_aggregate_size(die, &size) == 0 ? (int64_t)size : -1;
}

/* Whether an enum's values are signed: from its underlying type when
 * DWARF names one, else as C's int. */
static bool enum_is_signed(Dwarf_Die *en)
{
	Dwarf_Attribute at;
	Dwarf_Die base;
	Dwarf_Word enc;

	if (!dwarf_attr_integrate(en, DW_AT_type, &at) || !dwarf_formref_die(&at, &base) ||
	    strip_type(&base) < 0 || !dwarf_attr_integrate(&base, DW_AT_encoding, &at) ||
	    dwarf_formudata(&at, &enc) != 0)
		return true;
	return enc == DW_ATE_signed || enc == DW_ATE_signed_char;
}

/* DW_AT_const_value of an enumerator.  Fixed-size data forms carry no
 * sign, so the enum's type decides (libdw versions disagree on whether
 * dwarf_formsdata sign-extends them). */
static int enumerator_value(Dwarf_Die *e, bool is_signed, int64_t *value)
{
	Dwarf_Attribute at;
	Dwarf_Word u;
	Dwarf_Sword s;
	unsigned width = 0;

	if (!dwarf_attr(e, DW_AT_const_value, &at))
		return -1;
	switch (dwarf_whatform(&at)) {
	case DW_FORM_sdata:
	case DW_FORM_implicit_const:
		if (dwarf_formsdata(&at, &s) != 0)
			return -1;
		*value = s;
		return 0;
	case DW_FORM_data1: width = 8; break;
	case DW_FORM_data2: width = 16; break;
	case DW_FORM_data4: width = 32; break;
	default: break;                          /* data8, udata: 64 bits */
	}
	if (dwarf_formudata(&at, &u) != 0)
		return -1;
	if (is_signed && width && (u >> (width - 1) & 1))
		u |= ~(Dwarf_Word)0 << width;
	*value = (int64_t)u;
	return 0;
}

static int index_enumerators(struct pc_dwarf *d, Dwarf_Die *en)
{
	bool is_signed = enum_is_signed(en);
	Dwarf_Die e;
	int64_t v;

	if (dwarf_child(en, &e) != 0)
		return 0;
	do {
		const char *n = dwarf_diename(&e);
		if (dwarf_tag(&e) == DW_TAG_enumerator && n &&
		    enumerator_value(&e, is_signed, &v) == 0 && add_enum(d, n, v) < 0)
			return -1;
	} while (dwarf_siblingof(&e, &e) == 0);
	return 0;
}

/* One top-level DIE of a CU. */
static int index_die(struct pc_dwarf *d, Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	const char *name;
	Dwarf_Die t;

	if (tag == DW_TAG_enumeration_type)
		return index_enumerators(d, die);
	if (tag != DW_TAG_typedef && tag != DW_TAG_structure_type && tag != DW_TAG_union_type)
		return 0;
	if (!(name = dwarf_diename(die)) || find_type_slot(d, name))
		return 0;
	t = *die;
	if (strip_type(&t) < 0)
		return 0;
	if (type_size(&t) >= 0)
		return add_type(d, name, &t);
	/* A typedef of a struct only declared here: try the tag later. */
	if (tag == DW_TAG_typedef && dwarf_diename(&t) &&
	    (dwarf_tag(&t) == DW_TAG_structure_type || dwarf_tag(&t) == DW_TAG_union_type))
		return add_pending(d, name, dwarf_diename(&t));
	return 0;
}

static int build_index(struct pc_dwarf *d)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	d->indexed = true;
	if (grow_types(d) < 0 || grow_enums(d) < 0)
		return -1;
	while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;
		if (dwarf_offdie(d->dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				if (index_die(d, &child) < 0)
					return -1;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
	for (size_t i = 0; i < d->npending; i++) {
		struct type_slot *tag = find_type_slot(d, d->pending[i].tag);
		if (tag && !find_type_slot(d, d->pending[i].name) &&
		    add_type(d, d->pending[i].name, &tag->die) < 0)
			return -1;
	}
	free(d->pending);
	d->pending = NULL;
	d->npending = d->cappending = 0;
	return 0;
}

/* The definition of the type called name. */
static int find_type(struct pc_dwarf *d, const char *name, Dwarf_Die *out)
{
	struct type_slot *s;

	if (!d->indexed && build_index(d) < 0)
		return -1;
	s = find_type_slot(d, name);
	if (!s)
		return -1;
	*out = s->die;
	return 0;
}

int64_t dwarfinfo_sizeof(struct pc_dwarf *d, const char *type)
{
	Dwarf_Die die;
	return find_type(d, type, &die) == 0 ? type_size(&die) : -1;
}

int dwarfinfo_enumerator(struct pc_dwarf *d, const char *name, int64_t *value)
{
	struct enum_slot *s;

	if (!d->indexed && build_index(d) < 0)
		return -1;
	s = enum_slot(d->enums, d->capenums, name);
	if (!s->name)
		return -1;
	*value = s->value;
	return 0;
}

const char *dwarfinfo_type_file(struct pc_dwarf *d, const char *type)
{
	Dwarf_Die die;
	return find_type(d, type, &die) == 0 ? dwarf_decl_file(&die) : NULL;
}

/* ---- members ---- */

/* How many anonymous members one lookup may look into.  CPython's structs
 * have a few, nested two deep at most.  Damaged debug info can make an
 * anonymous member's type a struct that encloses it: a loop that recursed
 * until the stack ran out (fuzz_layout found it), or, with many such
 * members, a search exponential in the depth.  A count of descents bounds
 * both. */
#define ANONYMOUS_DESCENTS_MAX 64

/* Offset of the member called name in the struct or union die, looking
 * through anonymous members while *descents lasts; *member_type is set
 * to its type. */
static int64_t member_offset(Dwarf_Die *su, const char *name, Dwarf_Die *member_type,
			     int *descents)
{
	Dwarf_Die m;

	if (dwarf_child(su, &m) != 0)
		return -1;
	do {
		Dwarf_Attribute at;
		Dwarf_Word loc = 0;
		Dwarf_Die t;
		const char *n;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		if (dwarf_attr(&m, DW_AT_data_member_location, &at))
			dwarf_formudata(&at, &loc);
		if (!dwarf_attr_integrate(&m, DW_AT_type, &at) || !dwarf_formref_die(&at, &t) ||
		    strip_type(&t) < 0)
			continue;
		n = dwarf_diename(&m);
		if (n && strcmp(n, name) == 0) {
			*member_type = t;
			return (int64_t)loc;
		}
		if (!n && *descents > 0 &&
		    (dwarf_tag(&t) == DW_TAG_structure_type || dwarf_tag(&t) == DW_TAG_union_type)) {
			int64_t inner;
			--*descents;
			inner = member_offset(&t, name, member_type, descents);
			if (inner >= 0)
				return (int64_t)loc + inner;
		}
	} while (dwarf_siblingof(&m, &m) == 0);
	return -1;
}

/* Offset of a dotted member path; *last is set to the last member's type. */
static int64_t path_offset(struct pc_dwarf *d, const char *type, const char *member,
			   Dwarf_Die *last)
{
	int64_t total = 0;
	int descents = ANONYMOUS_DESCENTS_MAX;
	char part[128];

	if (find_type(d, type, last) < 0)
		return -1;
	for (const char *p = member; *p;) {
		size_t n = strcspn(p, ".");
		int64_t off;
		if (n >= sizeof part)
			return -1;
		memcpy(part, p, n);
		part[n] = '\0';
		off = member_offset(last, part, last, &descents);
		if (off < 0)
			return -1;
		total += off;
		p += n + (p[n] == '.');
	}
	return total;
}

int64_t dwarfinfo_offsetof(struct pc_dwarf *d, const char *type, const char *member)
{
	Dwarf_Die t;
	return path_offset(d, type, member, &t);
}

int64_t dwarfinfo_membersize(struct pc_dwarf *d, const char *type, const char *member)
{
	Dwarf_Die t;
	Dwarf_Word size;

	if (path_offset(d, type, member, &t) < 0 || dwarf_aggregate_size(&t, &size) != 0)
		return -1;
	return (int64_t)size;
}
