/* pyattr.h — an instance attribute of a Python object, read from its
 * __dict__ wherever this interpreter keeps it (doc §3.3, §5.10):
 *
 *   tp_dictoffset    a dict pointer inside the object, counted from its end
 *                    when negative (every type without a managed dict);
 *   managed dict     a pre-header word before the GC header holding the dict,
 *                    or the values array that shares its keys with the
 *                    class's ht_cached_keys — as a separate pointer
 *                    (layout without managed_dict_tagged or inline_values),
 *                    as the same word tagged with bit 0 (managed_dict_tagged),
 *                    or as values inline after the object (inline_values).
 *
 * Only what the instance holds itself: no class attributes, descriptors,
 * __slots__ or __getattr__.
 */
#ifndef PYCORE_PYATTR_H
#define PYCORE_PYATTR_H

#include "pyread.h"

#include <stdint.h>

/* The value of instance attribute name of obj: 0 with *value the object's
 * address, or 0 with *value = 0 when obj has no such attribute (or no
 * __dict__ at all); -1 with the error recorded when the core does not hold
 * what the lookup must read, or holds something impossible. */
int py_instance_dict_get(struct pc_py *py, uint64_t obj, const char *name, uint64_t *value);

/* The values array an instance of a class with a managed dict keeps
 * instead of a dict object (3.11+; 3.13 inline after the header): the
 * address of its first slot, how many slots are in use, and the class's
 * shared keys that name them (slot i holds the value of key entry i).
 * 0 with *slots = 0 when the instance has none (a dict object, or no
 * managed dict); -1 when the core lacks what must be read. */
int py_managed_values(struct pc_py *py, uint64_t obj, uint64_t type, uint64_t flags,
		      uint64_t *slots, uint64_t *count, uint64_t *keys);

#endif
