/* dwarfinfo.c — libdw lookups of C types by name. */
#include "dwarfinfo.h"

#include "../common/error.h"

#include <elfutils/libdw.h>
#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pc_dwarf {
	int fd;
	Dwarf *dw;
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
	free(d);
}

/* Follow typedefs and qualifiers down to the type itself. */
static int strip_type(Dwarf_Die *die)
{
	for (int hops = 0; hops < 32; hops++) {
		int tag = dwarf_tag(die);
		Dwarf_Attribute at;
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type)
			return 0;
		if (!dwarf_attr_integrate(die, DW_AT_type, &at) || !dwarf_formref_die(&at, die))
			return -1;
	}
	return -1;
}

/* A top-level typedef or struct named name, with a definition (a size). */
static int find_type(struct pc_dwarf *d, const char *name, Dwarf_Die *out)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;
		if (dwarf_offdie(d->dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				int tag = dwarf_tag(&child);
				const char *n;
				Dwarf_Die t;
				if ((tag != DW_TAG_typedef && tag != DW_TAG_structure_type) ||
				    !(n = dwarf_diename(&child)) || strcmp(n, name) != 0)
					continue;
				t = child;
				if (strip_type(&t) == 0 && dwarf_bytesize(&t) > 0) {
					*out = t;
					return 0;
				}
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
	return -1;
}

int64_t dwarfinfo_sizeof(struct pc_dwarf *d, const char *type)
{
	Dwarf_Die die;
	return find_type(d, type, &die) == 0 ? dwarf_bytesize(&die) : -1;
}

/* Offset of the member called name in the struct or union die, looking
 * through anonymous members. */
static int64_t member_offset(Dwarf_Die *su, const char *name, Dwarf_Die *member_type)
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
		if (!n && (dwarf_tag(&t) == DW_TAG_structure_type || dwarf_tag(&t) == DW_TAG_union_type)) {
			int64_t inner = member_offset(&t, name, member_type);
			if (inner >= 0)
				return (int64_t)loc + inner;
		}
	} while (dwarf_siblingof(&m, &m) == 0);
	return -1;
}

int64_t dwarfinfo_offsetof(struct pc_dwarf *d, const char *type, const char *member)
{
	Dwarf_Die die;
	int64_t total = 0;
	char part[128];

	if (find_type(d, type, &die) < 0)
		return -1;
	for (const char *p = member; *p;) {
		size_t n = strcspn(p, ".");
		int64_t off;
		if (n >= sizeof part)
			return -1;
		memcpy(part, p, n);
		part[n] = '\0';
		off = member_offset(&die, part, &die);
		if (off < 0)
			return -1;
		total += off;
		p += n + (p[n] == '.');
	}
	return total;
}
