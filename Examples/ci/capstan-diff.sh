#!/usr/bin/env bash
# A CI dry run of a manifests change: `capstan validate`, then `capstan diff` of the proposed commit against a base
# revision (offline) or against a live master, written as Markdown for a pull-request comment.
#
#   capstan-diff.sh [--repo DIR] [--head REV] [--base REV | --master HOST:PORT] [--path DIR] [--out FILE]
#
#   --repo    the git repository (default: the one around the current directory)
#   --head    the revision to deploy (default: HEAD); only commits are read, never the working tree
#   --base    what runs now, as a git revision whose manifests count as fully deployed (default: origin/main)
#   --master  compare with the live cluster instead (GET_STATE from the master at HOST:PORT)
#   --path    the manifests' directory in the repository (default: Manifests if --head has it, else the root)
#   --out     the Markdown comment file (default: capstan-diff.md)
#
# Installs nothing: it runs the `capstan` on PATH, or $CAPSTAN. Exit status: 0 when the manifests are valid and the
# diff ran (with or without changes), 1 when they are invalid or the diff failed; the comment file is written in
# every case. Under GitHub Actions it also sets the step outputs `changes` (true/false) and `comment` (the file).
set -uo pipefail

capstan=${CAPSTAN:-capstan}
repo=. head=HEAD base=origin/main master= path= out=capstan-diff.md
while [ $# -gt 0 ]; do
    case $1 in
        --repo) repo=$2; shift 2 ;;
        --head) head=$2; shift 2 ;;
        --base) base=$2; shift 2 ;;
        --master) master=$2; shift 2 ;;
        --path) path=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "capstan-diff.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
    esac
done

if ! command -v "$capstan" >/dev/null 2>&1; then
    echo "capstan-diff.sh: '$capstan' not found; put capstan on PATH or set CAPSTAN=/path/to/capstan" >&2
    exit 1
fi
if [ -z "$path" ] && git -C "$repo" cat-file -e "$head:Manifests" 2>/dev/null; then path=Manifests; fi
against=${master:+live}
against=${against:-$base}
short=$(git -C "$repo" rev-parse --short=12 "$head^{commit}" 2>/dev/null || echo "$head")
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# GitHub Actions step outputs, when running there.
output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi; }
output comment "$out"

fail() { # $1: what failed; the captured output follows in a code block
    {
        echo "<!-- capstan-diff -->"
        echo "### capstan: $1 at \`$short\`"
        echo
        echo '```'
        cat "$log"
        echo '```'
    } >"$out"
    output changes false
    cat "$log" >&2
    echo "capstan-diff.sh: $1; comment written to $out" >&2
    exit 1
}

# 1. Validate the manifests of the proposed commit (read through libgit2, like the reconciler will).
if ! "$capstan" validate --repo "$repo" --revision "$head" ${path:+--path "$path"} >"$log" 2>&1; then
    fail "invalid manifests"
fi
echo "$(tail -n 1 "$log")"

# 2. What deploying it would change: 0 nothing, 2 changes, anything else an error.
diff_args=(diff --repo "$repo" --revision "$head" --against "$against" --output markdown --no-color)
[ -n "$path" ] && diff_args+=(--path "$path")
[ -n "$master" ] && diff_args+=(--master "$master")
"$capstan" "${diff_args[@]}" >"$out.body" 2>"$log"
status=$?
case $status in
    0|2)
        # capstan's Markdown has its own heading; the marker lets a workflow find and update its earlier comment.
        { echo "<!-- capstan-diff -->"; cat "$out.body"; } >"$out"
        rm -f "$out.body"
        if [ $status -eq 2 ]; then
            output changes true
            echo "capstan-diff.sh: changes found; comment written to $out"
        else
            output changes false
            echo "capstan-diff.sh: no changes; comment written to $out"
        fi
        exit 0
        ;;
    *)
        cat "$out.body" >>"$log"
        rm -f "$out.body"
        fail "capstan diff failed (exit $status)"
        ;;
esac
