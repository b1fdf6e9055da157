/*
 * The ticket's worktree: branch `corral/<mission>/<ticket>` from the
 * mission's base and a linked worktree for it under the state dir, reused
 * when it is already there. A new worktree gets the untracked files the
 * user listed in .worktreeinclude (an .env, local config) copied from the
 * user's checkout; symlinks are never followed, so a link planted there
 * cannot pull a file from elsewhere on the host into the worktree.
 */
#include "rt-git.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *path, mode_t mode) {
  char *p = xstrdup(path), *s;
  int rc = 0;

  for (s = p + 1; *s && rc == 0; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, mode) < 0 && errno != EEXIST)
      rc = -errno;
    *s = '/';
  }
  if (rc == 0 && mkdir(p, mode) < 0 && errno != EEXIST)
    rc = -errno;
  free(p);
  return rc;
}

/* Worktree names are one path component, unique per (mission, ticket). */
static char *wt_name(const char *mission, const char *ticket) {
  uint64_t h = crl_hash64(mission, strlen(mission) + 1, 0);
  char *s, *p;

  h = crl_hash64(ticket, strlen(ticket), h);
  xasprintf(&s, "corral-%s-%s-%08x", mission, ticket, (unsigned)h);
  for (p = s; *p; p++)
    if (*p == '/' || *p == '.' || *p == ' ')
      *p = '_';
  return s;
}

static int branch_ensure(git_reference **out, struct rt_repo *r,
                         const char *refname, const char *base,
                         struct crl_err *err) {
  git_repository *g = rt_repo_git(r);
  git_object *obj = NULL, *commit = NULL;
  int rc;

  if ((rc = git_reference_lookup(out, g, refname)) != GIT_ENOTFOUND)
    return rc < 0 ? rt__git_fail(err, CRL_EINTERNAL, refname) : 0;
  rc = 0;
  if (git_revparse_single(&obj, g, base) < 0 ||
      git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
    rc = crl_err_set(err, CRL_ENOT_FOUND, "base '%s' does not exist in %s",
                     base, git_repository_commondir(g));
    goto out;
  }
  if (git_reference_create(out, g, refname, git_object_id(commit), 0,
                           "corral: branch from base") < 0)
    rc = rt__git_fail(err, CRL_EINTERNAL, "create branch");
out:
  git_object_free(commit);
  git_object_free(obj);
  return rc;
}

static int same_path(const char *a, const char *b) {
  char ra[PATH_MAX], rb[PATH_MAX];

  if (realpath(a, ra) == NULL || realpath(b, rb) == NULL)
    return 0;
  return strcmp(ra, rb) == 0;
}

/* Returns 1 when worktree `name` is usable at dir on refname, 0 when it must
 * be created (a stale entry is pruned), or an error. */
static int wt_reuse(struct rt_repo *r, const char *name, const char *refname,
                    const char *dir, struct crl_err *err) {
  git_worktree *wt = NULL;
  git_repository *w = NULL;
  git_reference *head = NULL;
  int rc = 0;

  if (git_worktree_lookup(&wt, rt_repo_git(r), name) < 0)
    return 0;
  if (git_worktree_validate(wt) < 0) {
    git_worktree_prune(wt, NULL);
    goto out;
  }
  if (!same_path(git_worktree_path(wt), dir)) {
    rc = crl_err_set(err, CRL_EDUPLICATE, "worktree %s is at %s, not %s", name,
                     git_worktree_path(wt), dir);
    goto out;
  }
  if (git_repository_open_from_worktree(&w, wt) < 0 ||
      git_reference_lookup(&head, w, "HEAD") < 0 ||
      git_reference_type(head) != GIT_REFERENCE_SYMBOLIC ||
      strcmp(git_reference_symbolic_target(head), refname) != 0) {
    rc = crl_err_set(err, CRL_EVALIDATION_FAILED,
                     "worktree %s is not on branch %s", dir, refname);
    goto out;
  }
  rc = 1;
out:
  git_reference_free(head);
  git_repository_free(w);
  git_worktree_free(wt);
  return rc;
}

static char *line_pattern(char *line) {
  char *end;

  line[strcspn(line, "\r\n")] = '\0';
  while (*line == ' ' || *line == '\t')
    line++;
  end = line + strlen(line);
  while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
    *--end = '\0';
  while (*line == '/')
    line++;
  if (*line == '\0' || *line == '#' || strstr(line, "..") != NULL)
    return NULL;
  return line;
}

void rt__include_read(char ***out, size_t *n, const char *root) {
  char *path, line[4096], *pat;
  FILE *f;

  *out = NULL;
  *n = 0;
  xasprintf(&path, "%s/.worktreeinclude", root);
  f = fopen(path, "re");
  free(path);
  if (f == NULL)
    return;
  while (fgets(line, sizeof(line), f) != NULL) {
    if ((pat = line_pattern(line)) == NULL)
      continue;
    *out = xreallocarray(*out, *n + 1, sizeof(**out));
    (*out)[(*n)++] = xstrdup(pat);
  }
  fclose(f);
}

static int copy_file(const char *src, const char *dst, mode_t mode) {
  char buf[65536];
  ssize_t got = 0;
  int in, outfd, rc = 0;

  if ((in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return -errno;
  outfd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
               mode & 0777);
  if (outfd < 0) {
    rc = -errno;
    goto out;
  }
  while (rc == 0 && (got = read(in, buf, sizeof(buf))) > 0)
    if (write(outfd, buf, (size_t)got) != got)
      rc = -EIO;
  if (got < 0)
    rc = -errno;
  close(outfd);
out:
  close(in);
  return rc;
}

static int copy_tree(const char *src, const char *dst);

/* Copies a directory's entries; a nested .git is never copied. */
static int copy_dir(const char *src, const char *dst, mode_t mode) {
  struct dirent *de;
  char *s, *d;
  DIR *dp;
  int rc;

  if ((rc = mkdir_p(dst, mode & 0777)) < 0)
    return rc;
  if ((dp = opendir(src)) == NULL)
    return -errno;
  while (rc == 0 && (de = readdir(dp)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
        strcmp(de->d_name, ".git") == 0)
      continue;
    xasprintf(&s, "%s/%s", src, de->d_name);
    xasprintf(&d, "%s/%s", dst, de->d_name);
    rc = copy_tree(s, d);
    free(s);
    free(d);
  }
  closedir(dp);
  return rc;
}

/* Copies a file or a directory; symlinks and special files are skipped. */
static int copy_tree(const char *src, const char *dst) {
  struct stat st;

  if (lstat(src, &st) < 0)
    return -errno;
  if (S_ISDIR(st.st_mode))
    return copy_dir(src, dst, st.st_mode);
  if (S_ISREG(st.st_mode))
    return copy_file(src, dst, st.st_mode);
  return 0;
}

/* root with glob(3)'s special characters escaped. */
static char *glob_escape(const char *root) {
  char *out = xmalloc(2 * strlen(root) + 1), *o = out;

  for (; *root; root++) {
    if (strchr("*?[]\\", *root) != NULL)
      *o++ = '\\';
    *o++ = *root;
  }
  *o = '\0';
  return out;
}

/* Copies what one pattern matches under root into dir. */
static int include_one(const char *root, const char *esc, const char *pat,
                       const char *dir) {
  char *full, *dst, *slash;
  size_t i, rootlen = strlen(root);
  glob_t g;
  int rc = 0;

  xasprintf(&full, "%s/%s", esc, pat);
  memset(&g, 0, sizeof(g));
  if (glob(full, 0, NULL, &g) != 0)
    goto out;
  for (i = 0; i < g.gl_pathc && rc == 0; i++) {
    xasprintf(&dst, "%s/%s", dir, g.gl_pathv[i] + rootlen + 1);
    if ((slash = strrchr(dst, '/')) != NULL) {
      *slash = '\0';
      rc = mkdir_p(dst, 0755);
      *slash = '/';
    }
    if (rc == 0)
      rc = copy_tree(g.gl_pathv[i], dst);
    free(dst);
  }
out:
  globfree(&g);
  free(full);
  return rc;
}

/* Copies the files .worktreeinclude lists from the user's checkout. A bare
 * repository has no checkout, hence nothing to copy. */
static int include_copy(struct rt_repo *r, const char *dir,
                        struct crl_err *err) {
  const char *wd = git_repository_workdir(rt_repo_git(r));
  char **pats, *root, *esc;
  size_t i, n;
  int rc = 0;

  if (wd == NULL)
    return 0;
  root = xstrndup(wd, strlen(wd) - (wd[strlen(wd) - 1] == '/'));
  esc = glob_escape(root);
  rt__include_read(&pats, &n, root);
  for (i = 0; i < n && rc == 0; i++)
    if ((rc = include_one(root, esc, pats[i], dir)) < 0)
      crl_err_set(err, rc, ".worktreeinclude: cannot copy '%s': %s", pats[i],
                  crl_strerror(rc));
  rt_paths_free(pats, n);
  free(esc);
  free(root);
  return rc;
}

static int wt_add(struct rt_repo *r, const char *name, git_reference *branch,
                  const char *dir, struct crl_err *err) {
  git_worktree_add_options opts;
  git_worktree *wt = NULL;
  char *parent = xstrdup(dir), *slash;
  int rc = 0;

  git_worktree_add_options_init(&opts, GIT_WORKTREE_ADD_OPTIONS_VERSION);
  if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
    *slash = '\0';
    if ((rc = mkdir_p(parent, 0755)) < 0) {
      crl_err_set(err, rc, "cannot create %s: %s", parent, crl_strerror(rc));
      goto out;
    }
  }
  opts.ref = branch;
  if (git_worktree_add(&wt, rt_repo_git(r), name, dir, &opts) < 0)
    rc = rt__git_fail(err, CRL_EINTERNAL, "add worktree");
out:
  git_worktree_free(wt);
  free(parent);
  return rc;
}

int rt_worktree_ensure(char **out_path, struct rt_repo *r, const char *mission,
                       const char *ticket, const char *base, const char *dir,
                       struct crl_err *err) {
  char *refname, *name = wt_name(mission, ticket);
  git_reference *branch = NULL;
  int rc;

  xasprintf(&refname, "refs/heads/corral/%s/%s", mission, ticket);
  if ((rc = wt_reuse(r, name, refname, dir, err)) < 0)
    goto out;
  if (rc == 0) {
    if ((rc = branch_ensure(&branch, r, refname, base, err)) < 0 ||
        (rc = wt_add(r, name, branch, dir, err)) < 0 ||
        (rc = include_copy(r, dir, err)) < 0)
      goto out;
  }
  *out_path = xstrdup(dir);
  rc = 0;
out:
  git_reference_free(branch);
  free(refname);
  free(name);
  return rc;
}
