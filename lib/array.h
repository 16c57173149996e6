/* Growing the control path's small tables by doubling. */
#ifndef PL_LIB_ARRAY_H
#define PL_LIB_ARRAY_H

#include <stdlib.h>

/*
 * Makes room for @need elements of @elem bytes in @arr (which holds *@cap), doubling.
 * Returns the array, moved or not, or NULL when memory ran out: @arr is then untouched.
 */
static inline void *pl_array_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return arr;
	while (c < need)
		c *= 2;
	if (!(arr = realloc(arr, c * elem)))
		return NULL;
	*cap = c;
	return arr;
}

#endif
