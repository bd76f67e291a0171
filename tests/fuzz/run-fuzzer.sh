#!/usr/bin/env bash
# Runs a libFuzzer target over its seed corpus, then fuzzes for a bounded time. New inputs go to
# a scratch copy, never into the repo's corpus. A crash fails the test and leaves the input.
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=${3:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="${TMPDIR:-/tmp}/$(basename "$fuzzer")-" "$work"
