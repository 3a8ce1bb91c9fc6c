/* html_page.c — the page's skeleton around its data and its drawing code.
 * The page loads nothing at view time, so it can be mailed, attached to a
 * ticket, or opened offline. */
#include "html_page.h"
#include "html_template.h"

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

int html_write_page(FILE *out, const struct html_page *page)
{
	const char *core = page->core ? page->core : "";

	fputs(html_page_start, out);
	fprintf(out, "<title>%s: ", page->generator);
	put_escaped(out, *core ? core : "core");
	fprintf(out, "</title>\n<meta name=\"generator\" content=\"%s " PYCORE_VERSION "\">\n"
		"<meta name=\"pycore-core\" content=\"", page->generator);
	put_escaped(out, core);
	fputs("\">\n", out);
	fputs(html_page_style, out);
	put_json_data(out, page->json, page->json_len);
	fputs(html_script_common, out);
	fputs(page->script, out);
	fputs(html_page_end, out);
	return ferror(out) ? -1 : 0;
}
