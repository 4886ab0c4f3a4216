#!/usr/bin/env bash
# Runs every `go test -fuzz` target of the module for FUZZTIME each (default 10s), one after
# the other (go test fuzzes one target per run), and prints each target's executions.
# A failing input is kept by go test under the package's testdata/fuzz/<target>/, where
# plain `go test` replays it from then on.
#   hack/fuzz.sh            every target, 10s each (make test)
#   FUZZTIME=5m hack/fuzz.sh   longer (make fuzz)
#   hack/fuzz.sh Scoped     only the targets whose name contains "Scoped"
# FUZZTIME_<target> gives one target a time of its own, e.g. FUZZTIME_FuzzEveryRequest=60s
# for a target whose seeds alone take half a minute to replay before it fuzzes.
# FUZZ_FRESH_CACHE=1 (make test) starts each target from its seeds alone, in a fuzz cache of
# its own that is removed after: go test replays the whole cached corpus before it fuzzes,
# and on a machine where long runs grew that corpus a bounded run would spend its time
# replaying and fuzz nothing. Without it (make fuzz) runs build on the shared cache.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
filter="${1:-}"
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
failed=0
total=0
# raced says whether a failed run's log ($1) is only the coordinator's deadline race: the
# target's one failure is "context deadline exceeded", and no failing input was written.
raced() {
	! grep -q 'Failing input written\|panic:' "$1" &&
		[[ $(grep -c -- '^--- FAIL' "$1") == 1 ]] &&
		grep -A1 -- '^--- FAIL' "$1" | tail -1 | grep -qx '    context deadline exceeded'
}
# fuzz fuzzes the loop's target ($name of $pkg) for $budget, its output in $log.
fuzz() {
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$budget" -fuzzminimizetime 1000x "$pkg" "${args[@]}" >"$log" 2>&1
}
while IFS=: read -r file name; do
	[[ -z "$filter" || "$name" == *"$filter"* ]] || continue
	pkg="./$(dirname "$file")"
	log=$(mktemp)
	own="FUZZTIME_${name}"
	budget="${!own:-$fuzztime}"
	echo "fuzzing $name ($pkg) for $budget"
	# Minimizing every new interesting input (go test's default, up to a minute each) would
	# take most of a short run; a failing input is still minimized, within 1000 executions.
	args=()
	cache=""
	if [[ -n "${FUZZ_FRESH_CACHE:-}" ]]; then
		cache=$(mktemp -d)
		# go test passes its own -test.fuzzcachedir first; the last one given wins.
		args=(-args "-test.fuzzcachedir=$cache")
	fi
	if fuzz; then
		status=ok
	# Go 1.26's fuzz coordinator can end a run whose -fuzztime expired with a bare
	# "context deadline exceeded" and no failing input, when a worker is slow to stop on a
	# busy machine (go.dev/issue/75804, fixed in Go 1.27). Nothing was found: the target
	# runs once more, and fails only if that run fails too.
	elif raced "$log" && echo "$name: go test ended with a bare \"context deadline exceeded\" and no failing input (go.dev/issue/75804); running it again" && fuzz; then
		status="ok (run twice, go.dev/issue/75804)"
	else
		status=FAILED
		failed=1
		cat "$log"
	fi
	# go test prints "fuzz: elapsed: 10s, execs: 123456 (12345/sec), new interesting: …".
	# A target whose seeds take longer than FUZZTIME to replay ends in "gathering baseline
	# coverage" with no execs line: 0, not the end of the script (set -e, pipefail).
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
	execs=${execs:-0}
	total=$((total + execs))
	printf '%-60s %-32s %12s  %s\n' "$name ($budget)" "$pkg" "$execs" "$status" >>"$summary"
	rm -f "$log"
	[[ -z "$cache" ]] || rm -rf "$cache"
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' services cmd controllers api 2>/dev/null | sed 's/:func /:/' | sort -u)
echo
printf '%-60s %-32s %12s  %s\n' target package executions result
cat "$summary"
printf '%-60s %-32s %12s\n' "all targets ($fuzztime each unless given their own)" "" "$total"
exit $failed
