/* heapdump — every object the heap walk finds, one per line, for tests
 * that compare with a live process's ids (and for debugging the walk):
 *
 *   heapdump CORE            ADDR SIZE TYPE   (hex address, sys.getsizeof)
 *   heapdump CORE --stats    what each allocator walk found
 */
#include "../../analyze/heap.h"
#include "../../analyze/pysize.h"
#include "../../common/error.h"

#include <stdio.h>
#include <string.h>

static int print_object(void *arg, const struct heap_object *o)
{
	struct pc_py *py = ((void **)arg)[0];
	struct pc_types *types = ((void **)arg)[1];

	printf("%llx %llu %s\n", (unsigned long long)o->addr,
	       (unsigned long long)pysize_of(py, o), types_name(types, o->type));
	return 0;
}

static int ignore_object(void *arg, const struct heap_object *o)
{
	(void)arg, (void)o;
	return 0;
}

int main(int argc, char **argv)
{
	struct pc_search search = { 0 };
	struct pc_image img;
	struct pc_py py;
	struct pc_types *types = NULL;
	struct heap_stats st;
	bool stats = argc == 3 && strcmp(argv[2], "--stats") == 0;
	void *args[2];
	int rc = 1;

	if (argc != 2 && !stats) {
		fprintf(stderr, "usage: heapdump CORE [--stats]\n");
		return 2;
	}
	if (image_open(&img, argv[1], &search) < 0)
		goto fail;
	if (py_open(&py, &img) < 0 || !(types = types_new(&py)))
		goto fail_img;
	args[0] = &py;
	args[1] = types;
	if (heap_walk(&py, types, stats ? ignore_object : print_object, args, &st, NULL, NULL) < 0)
		goto fail_img;
	if (stats)
		printf("objects %llu\narenas %llu\npools %llu\nblocks %llu\nheaps %llu\n"
		       "chunks %llu\nmmapped %llu\ngc_tracked %llu\ngc_elsewhere %llu\n"
		       "unreadable %llu\npymalloc_found_by %s\ndebug_hooks %d\n",
		       (unsigned long long)st.objects, (unsigned long long)st.arenas,
		       (unsigned long long)st.pools, (unsigned long long)st.blocks,
		       (unsigned long long)st.heaps, (unsigned long long)st.chunks,
		       (unsigned long long)st.mmapped, (unsigned long long)st.gc_tracked,
		       (unsigned long long)st.gc_elsewhere, (unsigned long long)st.unreadable,
		       st.pymalloc_found_by ? st.pymalloc_found_by : "none", st.debug_hooks);
	rc = 0;
	types_free(types);
	image_close(&img);
	return rc;
fail_img:
	types_free(types);
	image_close(&img);
fail:
	fprintf(stderr, "heapdump: %s\n", pc_errmsg());
	return pc_errcode() ? (int)pc_errcode() : 1;
}
