/*
 * trust.c: whether the daemon may believe what its state directory holds.
 * Whoever can write there decides the policy at the next start (an empty
 * state allows everything), so the directory and every file in it must be
 * owned by root or by the daemon's own user and writable by nobody else,
 * and no entry may be a symbolic link (issue 18). The state file itself is
 * also opened with O_NOFOLLOW and checked the same way (state.c), so a
 * file swapped in after this check is refused too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npgw_state.h"

const char *npgw_state_untrusted(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return "is owned by another user (uid %u): only root or the gateway's own user "
		       "may own it";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "is writable by its group or by others (mode %04o): chmod go-w it";
	return NULL;
}

/* One diagnostic about path, with the uid or the mode the reason names. */
static int refuse(struct npgw_diags *d, const char *path, const char *why, const struct stat *st)
{
	char msg[256];

	snprintf(msg, sizeof(msg), why,
		 strstr(why, "uid") ? (unsigned int)st->st_uid : (unsigned int)(st->st_mode & 07777));
	return npgw_diags_add(d, NPGW_SEV_ERROR, path, 0, 0, "",
			      "%s; the gateway does not trust this state directory", msg) < 0
		       ? -ENOMEM
		       : -EPERM;
}

int npgw_state_check_dir(const char *dir, struct npgw_diags *d)
{
	struct stat st;
	const char *why;
	int dfd, rc = 0;
	DIR *dh;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return 0; /* created private at the first save */
		rc = -errno;
		return npgw_diags_add(d, NPGW_SEV_ERROR, dir, 0, 0, "", "cannot open: %s",
				      strerror(-rc)) < 0 ? -ENOMEM : rc;
	}
	if (fstat(dfd, &st) < 0) {
		rc = -errno;
		close(dfd);
		return rc;
	}
	if ((why = npgw_state_untrusted(&st)) != NULL) {
		close(dfd);
		return refuse(d, dir, why, &st);
	}
	dh = fdopendir(dfd);
	if (dh == NULL) {
		rc = -errno;
		close(dfd);
		return rc;
	}
	for (struct dirent *e; (e = readdir(dh)) != NULL;) {
		char path[4096];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (S_ISLNK(st.st_mode)) {
			rc = npgw_diags_add(d, NPGW_SEV_ERROR, path, 0, 0, "",
					    "is a symbolic link; the gateway does not trust this "
					    "state directory") < 0 ? -ENOMEM : -EPERM;
		} else if ((S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) &&
			   (why = npgw_state_untrusted(&st)) != NULL) {
			rc = refuse(d, path, why, &st);
		}
		if (rc == -ENOMEM)
			break;
	}
	closedir(dh);
	return rc;
}
