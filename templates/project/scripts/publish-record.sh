#!/usr/bin/env bash
# Publish governance.yml, as a promotion in CI has just left it (its `latest:` block: the
# champion, when, and the validation), as the tip of the `governance-record` branch, one
# commit per decision. `goldpath inventory` reads that branch, so the fleet's inventory
# shows champions promoted in CI, whose runner checkouts are thrown away. The default
# branch is never touched: no push past its protection, no bot commits in its history.
#
#   RECORD_AUTH="AUTHORIZATION: bearer <token>" scripts/publish-record.sh <repository URL> [DIR]
#
# DIR holds what `python -m <package> export-audit --to DIR` wrote: the audit chain
# (audit.jsonl), the version @champion holds (registry.json) and, when there is one, the
# champion's technical documentation (champion.md). Published beside the record, they let
# `goldpath inventory` check the record against the chain, and the chain against every
# earlier publication, before it believes either.
#
# RECORD_AUTH is an HTTP header for git (`http.extraheader`), so no credential is written
# to the checkout's config; RECORD_MESSAGE names the decision in the commit. With
# RECORD_KEEP=branch the record stays as the branch holds it and only DIR's files are
# refreshed (the scheduled registry audit: no decision was made, the record is CI's).
set -euo pipefail

branch=governance-record
remote=${1:?usage: scripts/publish-record.sh <repository URL>}
auth=(-c "http.extraheader=${RECORD_AUTH:?RECORD_AUTH: the HTTP header that authorises the push}")
exported=${2:-}
message=${RECORD_MESSAGE:-governance record: latest decision}
# The remote is a URL or a path, never an option or a command-running transport.
case "$remote" in
  -* | *::*) echo "publish-record: refusing remote '$remote' (an option or a command transport)" >&2; exit 1 ;;
esac
export GIT_ALLOW_PROTOCOL=file:git:http:https:ssh
# The record as the checkout holds it: a symlink could publish any file the runner reads.
files=(governance.yml)
if [ -n "$exported" ]; then
  files+=("$exported/audit.jsonl" "$exported/registry.json")
  # The champion's technical documentation, when there is a champion.
  if [ -e "$exported/champion.md" ] || [ -L "$exported/champion.md" ]; then
    files+=("$exported/champion.md")
  fi
fi
for file in "${files[@]}"; do
  if [ -L "$file" ] || [ ! -f "$file" ]; then
    echo "publish-record: $file is missing or not a regular file; refusing" >&2
    exit 1
  fi
done

# The branch's tip, if it exists (ls-remote: 0 found, 2 no such ref, anything else failed).
status=0
tip=$(git "${auth[@]}" ls-remote --exit-code -- "$remote" "refs/heads/$branch") || status=$?
parent=""
if [ "$status" -eq 0 ]; then
  git "${auth[@]}" fetch --quiet --depth=1 -- "$remote" "refs/heads/$branch"
  parent=${tip%%[[:space:]]*}
elif [ "$status" -ne 2 ]; then
  echo "publish-record: cannot read $remote (git ls-remote exit $status)" >&2
  exit 1
fi

# A commit of the record (and the chain) alone, built from objects: the checkout's index and work tree
# stay as they are.
kept=""
if [ "${RECORD_KEEP:-}" = branch ] && [ -n "$parent" ]; then
  kept=$(git ls-tree "$parent" -- governance.yml)
  case "$kept" in
    "100644 blob "*) files=("${files[@]:1}") ;;
    *) echo "publish-record: $branch holds no regular governance.yml to keep" >&2; exit 1 ;;
  esac
fi
tree=$( (
  [ -z "$kept" ] || printf '%s\n' "$kept"
  for file in "${files[@]}"; do
    printf '100644 blob %s\t%s\n' "$(git hash-object -w -- "$file")" "${file##*/}"
  done
) | git mktree)
if [ -n "$parent" ] && [ "$(git rev-parse "$parent^{tree}")" = "$tree" ]; then
  echo "publish-record: $branch already holds this record"
  exit 0
fi
commit=$(git -c user.name="goldpath record" -c user.email="record@goldpath.invalid" \
  commit-tree "$tree" ${parent:+-p "$parent"} -m "$message")
# Never forced: a publication that lost a race to another is refused, and overwrites nothing.
if ! git "${auth[@]}" push --quiet -- "$remote" "$commit:refs/heads/$branch"; then
  echo "publish-record: the push to $branch was refused (another publication moved it, or" \
    "no access); nothing was overwritten: run it again" >&2
  exit 1
fi
echo "publish-record: $branch is now $commit"
