/* pyfacts.c — the PYCORE "python" note: written by pycore-capture from the
 * live process, read back by pycore-report when binaries are missing. */
#include "pyfacts.h"

#include "../common/error.h"
#include "../common/sort.h"
#include "layout.h"
#include "pyread.h"
#include "runtime.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 256
#define SCAN_CHUNK   (1u << 20)
#define BSS_SCAN_MAX (4u << 20)   /* more .bss than libpython has; a heap right after is not scanned */

/* Symbols the analysis looks up, beyond the known types. */
static const char *const extra_symbols[] = {
	"arenas", "maxarenas", "_PyObject_MiMalloc",
};

/* ---- reading ---------------------------------------------------------- */

static int by_string_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct pyfacts_string *)a)->addr;
	uint64_t y = ((const struct pyfacts_string *)b)->addr;
	return (x > y) - (x < y);
}

static int add_symbol(struct pc_pyfacts *f, const char *name, uint64_t addr)
{
	struct pyfacts_symbol *v = realloc(f->symbols, (f->nsymbols + 1) * sizeof *v);

	if (!v || !(name = strdup(name)))
		return -1;
	f->symbols = v;
	v[f->nsymbols++] = (struct pyfacts_symbol){ (char *)name, addr };
	return 0;
}

static int add_string(struct pc_pyfacts *f, uint64_t addr, const char *text)
{
	struct pyfacts_string *v = realloc(f->strings, (f->nstrings + 1) * sizeof *v);
	char *copy = strdup(text);

	if (!v || !copy) {
		free(copy);
		return -1;
	}
	f->strings = v;
	v[f->nstrings++] = (struct pyfacts_string){ addr, copy, strlen(copy) + 1 };
	return 0;
}

/* Append a size/field/const line to the layout text. */
static int add_layout_line(struct pc_pyfacts *f, size_t *len, const char *line)
{
	size_t n = strlen(line);
	char *grown = realloc(f->layout_text, *len + n + 2);

	if (!grown)
		return -1;
	f->layout_text = grown;
	memcpy(grown + *len, line, n);
	grown[*len + n] = '\n';
	grown[*len + n + 1] = '\0';
	*len += n + 1;
	return 0;
}

static int parse_line(struct pc_pyfacts *f, char *line, size_t *layout_len)
{
	char word[NAME_MAX_LEN], kind[16];
	unsigned long long addr;
	unsigned version;
	int n = 0;

	if (sscanf(line, "version %x %15s", &version, kind) == 2) {
		f->hexversion = version;
		f->version_exact = strcmp(kind, "exact") == 0;
	} else if (sscanf(line, "layout %255s", word) == 1) {
		free(f->layout_source);
		return (f->layout_source = strdup(word)) ? 0 : -1;
	} else if (!strncmp(line, "size ", 5) || !strncmp(line, "field ", 6) ||
		   !strncmp(line, "const ", 6)) {
		return add_layout_line(f, layout_len, line);
	} else if (sscanf(line, "symbol %255s %llx", word, &addr) == 2) {
		return add_symbol(f, word, addr);
	} else if (sscanf(line, "string %llx %n", &addr, &n) == 1 && n > 0) {
		return add_string(f, addr, line + n);
	}
	return 0;                     /* unknown: a later pycore's fact */
}

int pyfacts_parse(const void *note, size_t len, struct pc_pyfacts *f)
{
	char *text = malloc(len + 1), *line, *save = NULL;
	size_t layout_len = 0;
	int rc = -1;

	memset(f, 0, sizeof *f);
	if (!text)
		return pc_fail(PC_EINTERNAL, 0, "out of memory reading the python note");
	memcpy(text, note, len);
	text[len] = '\0';
	if (strncmp(text, PYFACTS_HEADER "\n", sizeof PYFACTS_HEADER) != 0) {
		free(text);
		return pc_fail(PC_EFORMAT, 0, "PYCORE python note of an unknown format");
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (parse_line(f, line, &layout_len) < 0)
			goto out;
	sort_array(f->strings, f->nstrings, sizeof *f->strings, by_string_addr);
	f->present = true;
	rc = 0;
out:
	free(text);
	if (rc < 0) {
		pyfacts_free(f);
		pc_fail(PC_EINTERNAL, 0, "out of memory reading the python note");
	}
	return rc;
}

void pyfacts_free(struct pc_pyfacts *f)
{
	for (size_t i = 0; i < f->nsymbols; i++)
		free(f->symbols[i].name);
	for (size_t i = 0; i < f->nstrings; i++)
		free(f->strings[i].text);
	free(f->symbols);
	free(f->strings);
	free(f->layout_source);
	free(f->layout_text);
	memset(f, 0, sizeof *f);
}

int pyfacts_symbol(const struct pc_pyfacts *f, const char *name, uint64_t *addr)
{
	for (size_t i = 0; i < f->nsymbols; i++)
		if (strcmp(f->symbols[i].name, name) == 0) {
			*addr = f->symbols[i].addr;
			return 0;
		}
	return -1;
}

size_t pyfacts_read(const struct pc_pyfacts *f, uint64_t addr, void *buf, size_t len)
{
	size_t lo = 0, hi = f->nstrings;

	while (lo < hi) {             /* the last string starting at or below addr */
		size_t mid = lo + (hi - lo) / 2;
		if (f->strings[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr - f->strings[lo - 1].addr >= f->strings[lo - 1].len)
		return 0;
	const struct pyfacts_string *s = &f->strings[lo - 1];
	size_t in = (size_t)(addr - s->addr), n = s->len - in < len ? s->len - in : len;
	memcpy(buf, s->text + in, n);
	return n;
}

/* Which id a name is, in one of the layout's lists; -1 when unknown. */
static int id_of(const char *name, const char *(*name_of)(int), int count)
{
	for (int i = 0; i < count; i++)
		if (strcmp(name_of(i), name) == 0)
			return i;
	return -1;
}

static const char *size_name(int i) { return layout_size_name((enum layout_size_id)i); }
static const char *field_name(int i) { return layout_field_name((enum layout_field_id)i); }
static const char *const_name(int i) { return layout_const_name((enum layout_const_id)i); }

int pyfacts_layout(const struct pc_pyfacts *f, uint32_t hexversion, struct pc_layout *out)
{
	char name[NAME_MAX_LEN];
	long long a, b, c;
	int id;

	if (!f->present || !f->layout_text || (f->hexversion >> 16) != (hexversion >> 16))
		return -1;
	memset(out, 0, sizeof *out);
	for (int i = 0; i < LS_COUNT; i++)
		out->size[i] = LAYOUT_ABSENT;
	for (int i = 0; i < LF_COUNT; i++)
		out->off[i] = out->fsize[i] = LAYOUT_ABSENT, out->alt[i] = -1;
	for (int i = 0; i < LC_COUNT; i++)
		out->konst[i] = LAYOUT_ABSENT;
	out->hexversion = hexversion;
	out->source = LAYOUT_FROM_NOTE;
	for (const char *p = f->layout_text; *p; p = strchr(p, '\n') + 1) {
		if (sscanf(p, "size %255s %lld", name, &a) == 2 &&
		    (id = id_of(name, size_name, LS_COUNT)) >= 0)
			out->size[id] = a;
		else if (sscanf(p, "field %255s %lld %lld %lld", name, &a, &b, &c) == 4 &&
			 (id = id_of(name, field_name, LF_COUNT)) >= 0)
			out->off[id] = a, out->fsize[id] = b, out->alt[id] = (int8_t)c;
		else if (sscanf(p, "const %255s %lld", name, &a) == 2 &&
			 (id = id_of(name, const_name, LC_COUNT)) >= 0)
			out->konst[id] = a;
	}
	layout_finish(out);
	return 0;
}

/* ---- writing (pycore-capture) ----------------------------------------- */

struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n >= 0 && t->buf && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		char *grown = realloc(t->buf, t->cap = 2 * t->cap + (size_t)n + 4096);
		if (n < 0 || !grown) {
			t->failed = true;
			return;
		}
		t->buf = grown;
	}
}

static void put_layout(struct text *t, const struct pc_layout *L)
{
	put(t, "layout %s\n", layout_source_name(L->source));
	for (int i = 0; i < LS_COUNT; i++)
		if (L->size[i] != LAYOUT_ABSENT)
			put(t, "size %s %lld\n", size_name(i), (long long)L->size[i]);
	for (int i = 0; i < LF_COUNT; i++)
		if (L->off[i] != LAYOUT_ABSENT)
			put(t, "field %s %lld %lld %d\n", field_name(i), (long long)L->off[i],
			    (long long)L->fsize[i], L->alt[i]);
	for (int i = 0; i < LC_COUNT; i++)
		if (L->konst[i] != LAYOUT_ABSENT)
			put(t, "const %s %lld\n", const_name(i), (long long)L->konst[i]);
}

static void put_symbols(struct text *t, struct pc_image *img)
{
	static const char *const known[] = {
#define PY_SYMBOL(id, sym) sym,
		PY_KNOWN_TYPES(PY_SYMBOL)
#undef PY_SYMBOL
	};
	uint64_t addr;

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (image_symbol(img, known[i], &addr) == 0)
			put(t, "symbol %s %#llx\n", known[i], (unsigned long long)addr);
	for (size_t i = 0; i < sizeof extra_symbols / sizeof extra_symbols[0]; i++)
		if (image_symbol(img, extra_symbols[i], &addr) == 0)
			put(t, "symbol %s %#llx\n", extra_symbols[i], (unsigned long long)addr);
}

/* A NUL-terminated string at addr that can go on one line, or false. */
static bool read_name(struct pc_image *img, uint64_t addr, char *buf, size_t cap)
{
	if (image_read(img, addr, buf, cap) < 0) {
		pc_clear_error();
		for (size_t i = 0; i + 1 < cap; i++)     /* near the end of a mapping */
			if (image_read(img, addr + i, buf + i, 1) < 0 || !buf[i])
				break;
		pc_clear_error();
	}
	buf[cap - 1] = '\0';
	return buf[0] && !strchr(buf, '\n') && strlen(buf) < cap - 1;
}

/* Static type objects live in the writable data of the ELF images: find
 * them by their type pointer (&PyType_Type), record their tp_name, which
 * is in .rodata. */
static int put_static_type_names(struct text *t, struct pc_image *img, const struct pc_layout *L)
{
	struct pc_core *core = img->core;
	uint64_t type_type, name_at = (uint64_t)L->off[LF_TYPE_NAME];
	uint8_t *chunk = malloc(SCAN_CHUNK);
	char name[NAME_MAX_LEN];

	if (!chunk)
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	if (image_symbol(img, "PyType_Type", &type_type) < 0) {
		free(chunk);
		return 0;
	}
	for (size_t i = 0; i < core_segment_count(core); i++) {
		const struct pc_core_segment *g = core_segment(core, i);
		/* Static types are data of ELF files — initialised, or in .bss
		 * (structseq types), the anonymous pages right after a file's
		 * data — never heap: scanning the heap too would cost the
		 * capture a read of all its memory before the target stops. */
		uint64_t len = g->memsz;
		if (!(g->flags & PF_W))
			continue;
		if (!core_segment_file_backed(core, g)) {
			const struct pc_core_segment *prev = i ? core_segment(core, i - 1) : NULL;
			if (!prev || !(prev->flags & PF_W) || !core_segment_file_backed(core, prev) ||
			    prev->vaddr + prev->memsz != g->vaddr)
				continue;
			len = len < BSS_SCAN_MAX ? len : BSS_SCAN_MAX;
		}
		for (uint64_t at = 0; at < len; at += SCAN_CHUNK) {
			ssize_t n = core_read(core, g->vaddr + at, chunk, SCAN_CHUNK);
			for (ssize_t k = 0; n > 0 && k + (ssize_t)name_at + 8 <= n; k += 8) {
				uint64_t ob_type, tp_name;
				memcpy(&ob_type, chunk + k + 8, 8);
				if (ob_type != type_type)
					continue;
				memcpy(&tp_name, chunk + k + name_at, 8);
				if (tp_name && read_name(img, tp_name, name, sizeof name))
					put(t, "string %#llx %s\n", (unsigned long long)tp_name, name);
			}
			pc_clear_error();
		}
	}
	free(chunk);
	return 0;
}

int pyfacts_build(struct pc_image *img, char **text, size_t *len)
{
	struct pc_runtime rt;
	struct pc_layout L;
	struct text t = { 0 };

	if (runtime_find(img, &rt) < 0 || layout_resolve(img, &rt, &L) < 0)
		return -1;
	put(&t, PYFACTS_HEADER "\n");
	put(&t, "version %#x %s\n", rt.hexversion, rt.version_exact ? "exact" : "minor");
	put_layout(&t, &L);
	/* Found by symbol or, 3.13+, by its debug offsets: either way here. */
	put(&t, "symbol _PyRuntime %#llx\n", (unsigned long long)rt.addr);
	put_symbols(&t, img);
	if (put_static_type_names(&t, img, &L) < 0 || t.failed) {
		free(t.buf);
		return t.failed ? pc_fail(PC_EINTERNAL, 0, "out of memory") : -1;
	}
	*text = t.buf;
	*len = t.len;
	return 0;
}
