/* sort.h — qsort for arrays that may be empty.
 *
 * qsort's array argument must not be NULL even when there is nothing to
 * sort (C11 7.22.5), and an empty list here is often a NULL pointer that
 * was never allocated; UBSan rightly objects.  Sort through this instead.
 */
#ifndef PYCORE_SORT_H
#define PYCORE_SORT_H

#include <stdlib.h>

static inline void sort_array(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

#endif
