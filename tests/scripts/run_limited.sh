#!/bin/sh
# Runs a program under an address-space limit (ulimit -v, in KiB), as a user on a small machine
# or a memory-capped job would; used by tests/examples_limits.cmake.
#   run_limited.sh KIB program args...
limit=$1
shift
ulimit -v "$limit" || exit 125
exec "$@"
