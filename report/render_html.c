/* render_html.c — the report as one self-contained HTML page: the JSON
 * document (render_json.c) embedded as data, drawn by the report's own
 * script (html_report.h) with the helpers every page shares
 * (html_page.c). */
#include "report.h"
#include "html_page.h"
#include "html_report.h"

#include <stdio.h>
#include <stdlib.h>

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
	rc = html_write_page(out, &(struct html_page){ "pycore-report", r->core_path,
						       html_report_script, json, len });
	free(json);
	return rc;
}
