/* html_page.h — one self-contained HTML page around a JSON document: the
 * shared skeleton, style sheet and helpers (html_template.h) with a page's
 * own drawing code.  pycore-report's page (render_html.c) and
 * pycore-diff's (render_diff.c) are both written by it. */
#ifndef PYCORE_HTML_PAGE_H
#define PYCORE_HTML_PAGE_H

#include <stddef.h>
#include <stdio.h>

struct html_page {
	const char *generator;       /* "pycore-report": the <title>'s first word and the footer's */
	const char *core;            /* the core(s) the page is about, for the title and a meta element */
	const char *script;          /* the page's drawing code (html_report.h, html_diff.h) */
	const char *json;            /* the --format json document */
	size_t json_len;
};

/* Returns 0, or -1 when writing failed. */
int html_write_page(FILE *out, const struct html_page *page);

#endif
