/*
 * Git bundles, written with libgit2: "# v2 git bundle\n", one
 * "<sha> <ref>\n" line per ref, an empty line, then a packfile built by
 * git_packbuilder from a revwalk over every ref, so the bundle carries the
 * whole history of the branches and needs no prerequisite. `git bundle
 * verify`, `git fetch FILE` and `git clone FILE` read it as is.
 */
#include "rt-int.h"
#include "rt-git.h"
#include "rt-trace.h"

#include <string.h>

static int bundle_git_fail(int rc, const char *what, struct crl_err *err) {
  const git_error *e = git_error_last();

  return crl_err_set(err, CRL_EINTERNAL, "%s: %s (%d)", what,
                     e != NULL ? e->message : "libgit2 error", rc);
}

/* Header lines for the refs that resolve; pushes their commits. */
static int bundle_header(struct crl_buf *out, git_repository *repo,
                         git_revwalk *walk, char *const *refs, size_t nrefs,
                         size_t *n) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid oid;

  crl_buf_printf(out, "# v2 git bundle\n");
  for (size_t i = 0; i < nrefs; i++) {
    if (git_reference_name_to_id(&oid, repo, refs[i]) < 0) {
      log_warn("%s: %s does not exist, left out of the bundle", __func__,
               refs[i]);
      continue;
    }
    git_oid_tostr(hex, sizeof(hex), &oid);
    crl_buf_printf(out, "%s %s\n", hex, refs[i]);
    if (git_revwalk_push(walk, &oid) < 0)
      return -1;
    (*n)++;
  }
  crl_buf_printf(out, "\n");
  return 0;
}

static int bundle_pack(struct crl_buf *out, git_repository *repo,
                       git_revwalk *walk, struct crl_err *err) {
  git_packbuilder *pb = NULL;
  git_buf pack = {0};
  int rc;

  if ((rc = git_packbuilder_new(&pb, repo)) < 0 ||
      (rc = git_packbuilder_insert_walk(pb, walk)) < 0 ||
      (rc = git_packbuilder_write_buf(&pack, pb)) < 0) {
    rc = bundle_git_fail(rc, "unable to build the bundle's pack", err);
    goto out;
  }
  rc = crl_buf_append(out, pack.ptr, pack.size);
out:
  git_buf_dispose(&pack);
  git_packbuilder_free(pb);
  return rc;
}

int rt_bundle_write(struct crl_buf *out, const char *repo_path,
                    char *const *refs, size_t nrefs, size_t *nrefs_out,
                    struct crl_err *err) {
  struct rt_repo *r = NULL;
  git_revwalk *walk = NULL;
  int rc;

  *nrefs_out = 0;
  if ((rc = rt_repo_open(&r, repo_path, err)) < 0)
    return rc;
  if ((rc = git_revwalk_new(&walk, rt_repo_git(r))) < 0 ||
      (rc = bundle_header(out, rt_repo_git(r), walk, refs, nrefs, nrefs_out)) <
          0) {
    rc = bundle_git_fail(rc, "unable to walk the branches", err);
    goto out;
  }
  rc = bundle_pack(out, rt_repo_git(r), walk, err);
out:
  git_revwalk_free(walk);
  rt_repo_free(r);
  return rc;
}

/* Writes the pack after the header into the repository's object store. */
static int bundle_unpack(git_repository *repo, const char *pack, size_t len,
                         struct crl_err *err) {
  git_indexer_progress stats = {0};
  git_odb_writepack *wp = NULL;
  git_odb *odb = NULL;
  int rc;

  if ((rc = git_repository_odb(&odb, repo)) < 0 ||
      (rc = git_odb_write_pack(&wp, odb, NULL, NULL)) < 0 ||
      (rc = wp->append(wp, pack, len, &stats)) < 0 ||
      (rc = wp->commit(wp, &stats)) < 0)
    rc = bundle_git_fail(rc, "unable to unpack the bundle", err);
  if (wp != NULL)
    wp->free(wp);
  git_odb_free(odb);
  return rc;
}

/* One "<sha> <ref>" header line: the ref goes under prefix. */
static int bundle_ref(git_repository *repo, const char *line, size_t n,
                      const char *prefix, struct crl_err *err) {
  git_reference *ref = NULL;
  char *name;
  git_oid oid;
  int rc;

  if (n < GIT_OID_HEXSZ + 2 || line[GIT_OID_HEXSZ] != ' ' ||
      git_oid_fromstrn(&oid, line, GIT_OID_HEXSZ) < 0)
    return crl_err_set(err, CRL_EPARSE, "bad ref line in the bundle");
  xasprintf(&name, "%s%.*s", prefix, (int)(n - GIT_OID_HEXSZ - 1 - 11),
            line + GIT_OID_HEXSZ + 1 + 11);
  if (strncmp(line + GIT_OID_HEXSZ + 1, "refs/heads/", 11) != 0)
    rc = crl_err_set(err, CRL_EPARSE, "bundle ref is not a branch");
  else if ((rc = git_reference_create(&ref, repo, name, &oid, 1,
                                      "corral replay: from the trace")) < 0)
    rc = bundle_git_fail(rc, "unable to create a ref from the bundle", err);
  git_reference_free(ref);
  free(name);
  return rc;
}

int rt_bundle_read(git_repository *repo, const char *data, size_t len,
                   const char *prefix, struct crl_err *err) {
  static const char magic[] = "# v2 git bundle\n";
  const char *p = data + sizeof(magic) - 1, *end = data + len, *nl;
  int rc;

  if (len < sizeof(magic) - 1 || memcmp(data, magic, sizeof(magic) - 1) != 0)
    return crl_err_set(err, CRL_EPARSE, "not a v2 git bundle");
  for (; p < end && *p != '\n'; p = nl + 1) {
    if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
      return crl_err_set(err, CRL_EPARSE, "truncated bundle header");
    if (*p == '-')
      return crl_err_set(err, CRL_EPARSE, "bundle needs prerequisites");
  }
  if (p >= end ||
      (rc = bundle_unpack(repo, p + 1, (size_t)(end - p - 1), err)) < 0)
    return p >= end ? crl_err_set(err, CRL_EPARSE, "bundle without a pack")
                    : rc;
  for (p = data + sizeof(magic) - 1; *p != '\n'; p = nl + 1) {
    nl = memchr(p, '\n', (size_t)(end - p));
    if ((rc = bundle_ref(repo, p, (size_t)(nl - p), prefix, err)) < 0)
      return rc;
  }
  return 0;
}
