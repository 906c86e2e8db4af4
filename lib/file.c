/* See file.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "is a directory";
	if (S_ISFIFO(m))
		return "is a FIFO, not a regular file";
	if (S_ISSOCK(m))
		return "is a socket, not a regular file";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "is a device, not a regular file";
	return "not a regular file";
}

int file_open_regular(const char *path, const char *role, int *errno_out,
		      struct ms_error *err)
{
	struct stat st;
	int fd, e;

	*errno_out = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		*errno_out = e = errno;
		return ms_err(err, MS_EOPEN, "%s: cannot open %s: %s", path, role, strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		*errno_out = e = errno;
		close(fd);
		return ms_err(err, MS_EOPEN, "%s: cannot read %s: %s", path, role, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		*errno_out = S_ISDIR(st.st_mode) ? EISDIR : 0;
		close(fd);
		return ms_err(err, MS_EOPEN, "%s: cannot read %s: %s", path, role,
			      kind_of(st.st_mode));
	}
	return fd;
}
