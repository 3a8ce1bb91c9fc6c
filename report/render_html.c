/* render_html.c — the report as one self-contained HTML page: the JSON
 * document (render_json.c) embedded as data, with the style sheet and the
 * script that draw it (html_template.h).  The page loads nothing at view
 * time, so it can be mailed, attached to a ticket, or opened offline. */
#include "report.h"
#include "html_template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PYCORE_VERSION
#define PYCORE_VERSION "0.1.0"
#endif

/* Text in an attribute value or an element's content. */
static void put_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: putc(*s, out);
		}
	}
}

/* The JSON document inside <script type="application/json">: every '<'
 * (only ever inside a JSON string) written as \u003c, so nothing in the
 * data can close the element or open a comment in it ("</script>",
 * "<!--"); JSON.parse() gives back the same document. */
static void put_json_data(FILE *out, const char *json, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (json[i] == '<')
			fputs("\\u003c", out);
		else
			putc(json[i], out);
	}
}

int render_html(FILE *out, const struct report *r)
{
	char *json = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&json, &len);
	int rc;

	if (!mem)
		return -1;
	rc = render_json(mem, r);
	if (fclose(mem) != 0 || rc < 0) {
		free(json);
		return -1;
	}
	fputs(html_page_start, out);
	fputs("<title>pycore-report: ", out);
	put_escaped(out, r->core_path ? r->core_path : "core");
	fputs("</title>\n<meta name=\"generator\" content=\"pycore-report " PYCORE_VERSION "\">\n"
	      "<meta name=\"pycore-core\" content=\"", out);
	put_escaped(out, r->core_path ? r->core_path : "");
	fputs("\">\n", out);
	fputs(html_page_style, out);
	put_json_data(out, json, len);
	fputs(html_page_script, out);
	free(json);
	return ferror(out) ? -1 : 0;
}
