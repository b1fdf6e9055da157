#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Sandbox escape probes, filesystem (issue 4 groups 1-5, 15, 18, 19): writes
# outside the worktree, symlinks and hardlinks out, git metadata, inherited
# directory fds, secrets under $HOME, setuid copies, device nodes and the
# host's /dev/shm. Each probe escapes unsandboxed and is blocked under
# `corral sandbox --profile agent`, with the host files checked unchanged;
# as root and as nobody.
TMPDIR=${SANDBOX_TMPDIR:-/var/tmp} . "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../sandbox-probe/sandbox-lib.sh"

git_as() { as_id env HOME="$FAKEHOME" git -c user.name=probe \
  -c user.email=probe@example.com "$@" >/dev/null 2>&1; }

# 1: absolute path, `..`, the host's ~/.bashrc, a new file next to WORK.
outside_writes() {
  echo original >"$OUTSIDE/victim.txt"
  echo 'export PS1=host' >"$FAKEHOME/.bashrc"
  sbx_own "$OUTSIDE" "$FAKEHOME"
  WATCH=("$OUTSIDE/victim.txt" "$OUTSIDE/new.txt" "$D/escape"
    "$FAKEHOME/.bashrc")
  expect_pair "write to an absolute path" write-abs "$OUTSIDE/victim.txt"
  expect_pair "create an absolute path" write-abs "$OUTSIDE/new.txt"
  expect_pair "write to ../escape" write-dotdot
  expect_pair "write the host's ~/.bashrc" write-home-bashrc \
    "$FAKEHOME/.bashrc"
}

# 2, 3: links made in the worktree that point out of it.
links_out() {
  echo original >"$OUTSIDE/victim.txt"
  sbx_own "$OUTSIDE"
  WATCH=("$OUTSIDE/victim.txt")
  expect_pair "write through a symlink out" symlink-out "$WORK" \
    "$OUTSIDE/victim.txt"
  rm -f "$WORK/link"
  expect_pair "hardlink a host file" hardlink "$OUTSIDE/victim.txt" "$WORK"
  rm -f "$WORK/hardlink"
}

# The git metadata the host's git would execute from, of the repository
# whose git dir is GITDIR.
git_watch() {
  WATCH=("$1/config" "$1/hooks/pre-commit" "$1/info/attributes"
    "$1/info")
}

# 4: WORK as a repository (.git inside it); the read-only config is also a
# hardlink source that must not be reachable from the writable worktree.
git_repo() {
  git_as init -q "$WORK"
  echo '* text' >"$WORK/.git/info/attributes"
  sbx_own "$WORK/.git"
  git_watch "$WORK/.git"
  expect_blocked "repository hooks, config, attributes" git-hooks "$WORK/.git"
  WATCH+=("$WORK/hardlink")
  expect_blocked "hardlink of .git/config" hardlink "$WORK/.git/config" \
    "$WORK"
  WATCH=("$WORK/.git" "$WORK/.git/config" "$WORK/.git-probe-moved")
  expect_blocked "rename .git away" git-dotgit "$WORK"
  # Proofs on a scratch copy, so the sandboxed runs above saw a clean repo.
  cp -a "$WORK/.git" "$D/scratch.git"
  expect_escape "repository hooks, config, attributes" git-hooks \
    "$D/scratch.git"
  expect_escape "hardlink of .git/config" hardlink "$D/scratch.git/config" \
    "$OUTSIDE"
  mkdir "$D/scratch-wt"
  mv "$D/scratch.git" "$D/scratch-wt/.git"
  sbx_own "$D/scratch-wt"
  expect_escape "rename .git away" git-dotgit "$D/scratch-wt"
  rm -rf "$WORK/.git" "$D/scratch-wt" "$OUTSIDE/hardlink"
}

# 4: a linked worktree: its .git is a file naming the common dir's
# worktrees/NAME, and the common dir's config and hooks govern it.
git_worktree() {
  local main=$D/main wt=$D/wt
  git_as init -q "$main"
  git_as -C "$main" commit -q --allow-empty -m init
  git_as -C "$main" worktree add -q "$wt"
  [ -f "$wt/.git" ] || fail "git worktree add made no $wt/.git file"
  mkdir -p "$wt/.probe"
  cp "$PROBE" "$wt/.probe/"
  sbx_own "$D"
  local work=$WORK probe=$PROBE
  WORK=$wt PROBE=$wt/.probe/$(basename "$probe")
  git_watch "$main/.git"
  expect_blocked "common dir hooks, config, attributes" git-hooks \
    "$main/.git"
  WATCH=("$main/.git/worktrees/wt/commondir"
    "$main/.git/worktrees/wt/config.worktree")
  expect_blocked "the worktree's commondir, config.worktree" git-wtmeta \
    "$main/.git/worktrees/wt"
  WATCH=("$wt/.git")
  expect_blocked "overwrite the worktree's .git file" git-dotgit "$wt"
  expect_escape "overwrite the worktree's .git file" git-dotgit "$wt"
  expect_escape "the worktree's commondir, config.worktree" git-wtmeta \
    "$main/.git/worktrees/wt"
  WORK=$work PROBE=$probe
  rm -rf "$main" "$wt"
}

# 5: a host directory fd, passed on with --keep-fd, and one not passed on.
inherited_fd() {
  WATCH=("$OUTSIDE/escape" "$D/escape-up")
  exec 7<"$OUTSIDE"
  SBX_OPTS=(--keep-fd 7)
  expect_blocked "inherited dir fd (kept)" inherited-fd 7
  SBX_OPTS=()
  expect_blocked "inherited dir fd (not kept)" inherited-fd 7
  expect_escape "inherited dir fd" inherited-fd 7
  exec 7<&-
}

# 15: the host's secrets, by absolute path (the sandbox's $HOME is empty).
secrets() {
  local f
  mkdir -p "$FAKEHOME/.ssh" "$FAKEHOME/.aws" "$FAKEHOME/.config/gh"
  for f in .ssh/id_ed25519 .aws/credentials .config/gh/hosts.yml .netrc; do
    echo "secret-$f" >"$FAKEHOME/$f"
  done
  chmod 700 "$FAKEHOME/.ssh"
  chmod 600 "$FAKEHOME/.ssh/id_ed25519"
  sbx_own "$FAKEHOME"
  WATCH=()
  for f in .ssh/id_ed25519 .ssh .aws/credentials .config/gh/hosts.yml \
    .netrc; do
    expect_pair "read ~/$f" read-secret "$FAKEHOME/$f"
  done
  expect_pair_root "read /etc/shadow" read-secret /etc/shadow
}

# 18: setuid copies of the probe owned by another uid (root's is run by
# nobody's group only); with the bit honoured, `euid` reports the owner.
setuid_copy() {
  local other=65534 group=0
  [ "$SBX_ID" = nobody ] && other=0 group=65534
  [ "$(id -u)" -eq 0 ] || {
    note "setuid: not root, cannot make a setuid copy"
    return 0
  }
  cp "$SANDBOX_PROBE" "$WORK/suid"
  chown "$other:$group" "$WORK/suid"
  chmod 4750 "$WORK/suid"
  [ "$SBX_ID" = root ] && chmod 4755 "$WORK/suid"
  expect_pair "setuid copy in the worktree" setuid-exec "$WORK/suid"
  rm -f "$WORK/suid"
}

# 19: device nodes, /dev/mem, /dev/kmsg, the host's /dev/shm.
devices() {
  local shm=corral-probe-$$-$SBX_ID before
  WATCH=("$WORK/node")
  expect_pair_root "mknod in the worktree" mknod "$WORK/node"
  rm -f "$WORK/node"
  WATCH=()
  if [ -e /dev/mem ] || [ -e /dev/port ]; then
    expect_pair_root "open /dev/mem" dev-mem
  else
    note "no /dev/mem or /dev/port on this host: sandboxed half only"
    expect_blocked "open /dev/mem" dev-mem
  fi
  expect_pair_root "read /dev/kmsg" dev-kmsg
  echo original >"/dev/shm/$shm"
  sbx_own "/dev/shm/$shm"
  WATCH=("/dev/shm/$shm")
  expect_pair "write the host's /dev/shm" dev-shm-host "$shm"
  rm -f "/dev/shm/$shm"
  # A new file in the sandbox's /dev/shm may be allowed, but must not
  # appear in the host's.
  before=$(ls -A /dev/shm)
  probe_box write-abs "/dev/shm/$shm-new"
  assert_same "$before" "$(ls -A /dev/shm)" "create in /dev/shm (exit $RC)"
  rm -f "/dev/shm/$shm-new"
}

sbx_binaries
for id in $(sbx_users); do
  sbx_begin "$id"
  outside_writes
  links_out
  git_repo
  git_worktree
  inherited_fd
  secrets
  setuid_copy
  devices
done
