/* outfile.h — an output file that appears only when complete.
 *
 * The file is created unnamed (O_TMPFILE) in the target directory and given
 * its name by linkat() once finished, so no partial core can remain, even if
 * we are killed.  Where O_TMPFILE is unsupported, a hidden temporary name
 * (".NAME.XXXXXX") is used and removed on failure — but a SIGKILL leaves it
 * behind.  The mode is always 0600: cores hold secrets.
 */
#ifndef PYCORE_OUTFILE_H
#define PYCORE_OUTFILE_H

#include <stdbool.h>

struct pc_outfile {
	int fd;
	char *path;          /* the final name */
	char *tmp_path;      /* named temporary, or NULL with O_TMPFILE */
	bool force;          /* replace an existing file */
};

/* Fails with PC_EEXISTS when path exists and !force, PC_EOUTPUT when the
 * directory is not writable.  Returns 0 or -1. */
int outfile_open(struct pc_outfile *o, const char *path, bool force);

/* Give the finished file its name.  Returns 0 or -1. */
int outfile_commit(struct pc_outfile *o);

/* Drop an unfinished file.  Safe after commit or failure. */
void outfile_discard(struct pc_outfile *o);

#endif
