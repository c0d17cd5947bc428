#!/usr/bin/env bash
# The CI runner integrations (packaging/runners/, docs/ci.md) against the contracts of the
# runners that call them, without a build, a daemon or a VM:
#   - GitHub Actions job hooks: run the way the runner runs them, `bash -e HOOK` as a child
#     of a process whose /proc/PID/comm is Runner.Worker (a copy of bash under that name),
#     with the job's GITHUB_* / RUNNER_* variables, as an unprivileged account (nobody:
#     the runner refuses root);
#   - GitLab Runner custom executor: prepare_exec / run_exec SCRIPT STAGE / cleanup_exec
#     run as executables with CUSTOM_ENV_* variables, JOB_RESPONSE_FILE and distinct
#     BUILD_FAILURE_EXIT_CODE / SYSTEM_FAILURE_EXIT_CODE values, the driver as root with
#     the jobs as nobody, and (as root) the driver as nobody too.
# A fake `execgate` first on the scripts' PATH logs every call (argv) and fails the verb
# FAKE_FAIL names ("job start=3"); a fake `sudo` logs its call and runs the helper. The
# checks: the verbs and arguments, in order; the job ids (derivation, sanitizing, the
# GitLab id from JOB_RESPONSE_FILE); every failure of the started hook (no Worker, sudo,
# issue, job start, an unsafe key or toolchain file, root, missing variables) exits
# non-zero and never runs the job; GitLab's stage results map to
# BUILD_FAILURE_EXIT_CODE / SYSTEM_FAILURE_EXIT_CODE; cleanup ends the job.
# Runs as root (it switches to nobody with setpriv, as the runners' accounts). Prints
# ok / FAIL per check and a summary; exit 1 on any FAIL. Run by scripts/test.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "runner_hooks_test.sh: run it as root (it runs the hooks as nobody, as the runners do)" >&2; exit 1; }

passed=0 failed=0
ok() {
  passed=$((passed + 1))
  echo "ok   $*"
}
bad() {
  failed=$((failed + 1))
  echo "FAIL $*"
}
check() { # check WHAT CMD...: ok when CMD succeeds
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
chmod 755 "$t"
mkdir -p "$t/bin" "$t/etc" "$t/w" "$t/gl" "$t/evil"
mkdir -m 1777 "$t/tmp" "$t/log"
# The scripts as the package installs them (/usr/share/execgate/runners/...), where an
# unprivileged account can read them.
cp -a "$root/packaging/runners" "$t/runners"
chmod -R go+rX "$t/runners"
log=$t/log/calls

# --- fakes --------------------------------------------------------------------------------

cat >"$t/bin/execgate" <<'EOF'
#!/usr/bin/env bash
# fake execgate: logs its argv as one line to $FAKE_LOG; FAKE_FAIL="VERB=CODE" fails VERB
# (issue, job start, job end, run) with CODE before it does anything.
{ printf 'execgate'; printf ' %q' "$@"; printf '\n'; } >>"${FAKE_LOG:?}"
verb=${1:-}
[ "$verb" != job ] || verb="job ${2:-}"
if [ -n "${FAKE_FAIL:-}" ] && [ "${FAKE_FAIL%=*}" = "$verb" ]; then
  echo "execgate: fake failure of $verb" >&2
  exit "${FAKE_FAIL##*=}"
fi
case $verb in
  issue)
    out='' prev=''
    for a in "$@"; do
      [ "$prev" != -o ] || out=$a
      prev=$a
    done
    [ -n "$out" ] || { echo "execgate issue: -o is required" >&2; exit 2; }
    printf '{"payloadType":"application/vnd.execgate.ticket.v1+json","fake":"%s"}\n' "$(printf '%s ' "$@" | tr -d '"\\')" >"$out"
    echo "ticket fake -> $out"
    ;;
  "job start")
    id=$3
    shift 3
    while [ $# -gt 0 ]; do
      case $1 in
        --ticket)
          [ -s "$2" ] || { echo "execgate job start: no ticket at $2" >&2; exit 2; }
          cat "$2" >>"$FAKE_LOG.tickets"
          shift 2
          ;;
        --pid) shift 2 ;;
        *) echo "execgate job start: unexpected $1" >&2; exit 2 ;;
      esac
    done
    echo "/sys/fs/cgroup/execgate-jobs.slice/job.$id"
    ;;
  "job end") ;;
  run)
    while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
    [ $# -gt 1 ] || { echo "execgate run: no command" >&2; exit 2; }
    shift
    "$@"
    exit $?
    ;;
  *) echo "execgate: fake knows no $verb" >&2; exit 2 ;;
esac
EOF
cat >"$t/bin/sudo" <<'EOF'
#!/usr/bin/env bash
# fake sudo: logs its argv; the scripts must never let it prompt (-n); FAKE_SUDO_FAIL=1
# refuses as sudo does without a rule.
{ printf 'sudo'; printf ' %q' "$@"; printf '\n'; } >>"${FAKE_LOG:?}"
[ "${1:-}" = -n ] || { echo "fake sudo: called without -n" >&2; exit 1; }
[ "${FAKE_SUDO_FAIL:-0}" != 1 ] || { echo "sudo: a password is required" >&2; exit 1; }
shift
exec "$@"
EOF
chmod 755 "$t/bin/execgate" "$t/bin/sudo"
# Runner.Worker: the runner's process that runs each step and the hooks, as its children.
cp "$(command -v bash)" "$t/w/Runner.Worker"
chmod 755 "$t/w/Runner.Worker"

# --- configuration ------------------------------------------------------------------------

echo "fake delegate key" >"$t/etc/runner.key"
chmod 600 "$t/etc/runner.key"
echo '{"payloadType":"application/vnd.execgate.delegation.v1+json"}' >"$t/etc/runner.delegation"
printf '# the toolchain\n/bin/true\n  /bin/false  \n\n/bin/sleep # comment\n' >"$t/etc/toolchain.list"
printf '/bin/cat\n' >"$t/etc/builders.list"
cp /bin/true "$t/evil/tool"
chmod 755 "$t/evil/tool"
chmod 777 "$t/evil"
printf '/bin/true\n%s\n' "$t/evil/tool" >"$t/etc/evil-toolchain.list"
write_conf() { # write_conf FILE [KEY=VALUE...]: runner.conf with these overrides
  local f=$1
  shift
  {
    echo "EXECGATE_RUNNER_KEY=$t/etc/runner.key"
    echo "EXECGATE_RUNNER_DELEGATION=$t/etc/runner.delegation"
    echo "EXECGATE_RUNNER_TOOLCHAIN=$t/etc/toolchain.list"
    echo "EXECGATE_RUNNER_BUILDERS=$t/etc/builders.list"
    echo "EXECGATE_RUNNER_TTL=2h"
    echo "EXECGATE_RUNNER_MAX_SUBJECTS=2"
    echo "EXECGATE_RUNNER_PATH=$t/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    printf '%s\n' "$@"
  } >"$f"
  chmod 644 "$f"
}
conf=$t/etc/runner.conf
write_conf "$conf"
write_conf "$t/etc/gitlab.conf" "EXECGATE_RUNNER_JOB_USER=nobody"
write_conf "$t/etc/gitlab-noroot.conf"
write_conf "$t/etc/evil.conf" "EXECGATE_RUNNER_TOOLCHAIN=$t/etc/evil-toolchain.list"
chmod 644 "$t/etc/"*.list "$t/etc/runner.delegation"

nobody_uid=$(id -u nobody)
as_nobody=(setpriv --reuid="$nobody_uid" --regid="$(id -g nobody)" --clear-groups --)
# a runner.conf that the runner's account owns: a job could rewrite it for the next job
write_conf "$t/etc/owned-by-runner.conf"
chown nobody "$t/etc/owned-by-runner.conf"

# --- helpers ------------------------------------------------------------------------------

# The log with the temporary directories as <TMP> and the test's directory as <T>.
normalize() { sed -e "s#$t/tmp/tmp\.[A-Za-z0-9]*#<TMP>#g" -e "s#$t#<T>#g"; }
# A call line as the fakes log it.
call() {
  printf '%s' "$1"
  shift
  printf ' %q' "$@"
  printf '\n'
}
expect_log() { # expect_log WHAT EXPECTED: the log, normalized, is EXPECTED
  local what=$1 want got
  want=$(printf '%s' "$2" | normalize)
  got=$(normalize <"$log" 2>/dev/null || :)
  if [ "$got" = "$want" ]; then
    ok "$what"
  else
    bad "$what"
    diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/     /' || :
  fi
}
no_run_calls() { ! grep -q '^execgate run' "$log" 2>/dev/null; }
no_job_start() { ! grep -q '^execgate job start' "$log" 2>/dev/null; }
log_empty() { [ ! -s "$log" ]; }
err_has() { grep -q -- "$1" "$t/err"; }
out_has() { grep -q -- "$1" "$t/out"; }

gh_env=(GITHUB_RUN_ID=123 GITHUB_RUN_ATTEMPT=2 GITHUB_JOB=build GITHUB_REPOSITORY=acme/app
  RUNNER_NAME=runner-1 GITHUB_WORKSPACE=/home/runner/_work/app/app RUNNER_TEMP=/home/runner/_work/_temp)

# gh_hook HOOK [VAR=VALUE...]: runs the hook as the runner does: `bash -e HOOK`, a child
# of Runner.Worker, as the runner's account; Runner.Worker's pid in $t/log/worker.pid.
# Sets rc; stdout and stderr in $t/out and $t/err.
gh_hook() {
  local hook=$1
  shift
  rm -f "$log" "$log.tickets" "$t/log/worker.pid"
  rc=0
  # shellcheck disable=SC2016 # expanded by the fake Runner.Worker
  env -i PATH=/usr/bin:/bin HOME=/ TMPDIR="$t/tmp" FAKE_LOG="$log" EXECGATE_RUNNER_CONF="$conf" \
    "${gh_env[@]}" "$@" "${as_nobody[@]}" "$t/w/Runner.Worker" \
    -c 'echo $$ >"$2"; bash -e "$1"; exit $?' worker "$hook" "$t/log/worker.pid" \
    >"$t/out" 2>"$t/err" || rc=$?
  worker=$(cat "$t/log/worker.pid" 2>/dev/null || echo none)
}
started=$t/runners/github/job-started.sh
completed=$t/runners/github/job-completed.sh
helper=$t/runners/sign-job-tickets.sh

# --- GitHub Actions: job ids --------------------------------------------------------------

job_id() { bash -c '. "$1"; eg_job_id "$2"' _ "$t/runners/lib.sh" "$1"; }
valid_id() { [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$ ]]; }
check "job id: a clean name is kept as it is" [ "$(job_id gh-123-2-build-runner-1)" = gh-123-2-build-runner-1 ]
id_space=$(job_id 'gh-1-1-build-my runner/1')
check "job id: other characters become _ and a hash keeps it unique ($id_space)" \
  bash -c '[[ $1 =~ ^gh-1-1-build-my_runner_1-[0-9a-f]{12}$ ]]' _ "$id_space"
check "job id: 'a b' and 'a_b' differ" [ "$(job_id 'a b')" != "$(job_id a_b)" ]
long_a=gh-$(printf 'x%.0s' {1..300})a
long_b=gh-$(printf 'x%.0s' {1..300})b
id_a=$(job_id "$long_a")
check "job id: 300+ characters give 100 valid ones" bash -c '[ ${#1} = 100 ]' _ "$id_a"
check "job id: the long id is valid" valid_id "$id_a"
check "job id: two long names with one prefix differ" [ "$id_a" != "$(job_id "$long_b")" ]
check "job id: non-ASCII is sanitized to a valid id" valid_id "$(job_id 'gh-1-1-bé-ü')"

# --- GitHub Actions: job-started ----------------------------------------------------------

id=gh-123-2-build-runner-1
init="github:acme/app run 123 attempt 2 job build on runner-1"
key=$t/etc/runner.key deleg=$t/etc/runner.delegation tk=$t/tmp/tmp.X
issue_line() { # issue_line N KIND BINARIES...: an issue call for ticket N of job $id
  local n=$1 kind=$2 extra=() bins=() b
  shift 2
  [ "$kind" = toolchain ] || extra=(--builder)
  for b in "$@"; do bins+=(--binary "$b"); done
  call execgate issue --key "$key" --delegation "$deleg" --job "$id" "${extra[@]}" --ttl 2h --this-host \
    --initiator "$init" --purpose "CI job $id: $kind" "${bins[@]}" -o "$tk/0$n.ticket"
}

gh_hook "$started"
check "started: exit 0 under Runner.Worker" [ "$rc" = 0 ]
expect_log "started: sudo -n signer, issue (toolchain in 2 tickets of <= 2, builders with --builder), then job start --pid Runner.Worker with the 3 tickets, in order" \
  "$(call sudo -n "$helper" "$id" "$init")
$(issue_line 1 toolchain /bin/true /bin/false)
$(issue_line 2 toolchain /bin/sleep)
$(issue_line 3 builders /bin/cat)
$(call execgate job start "$id" --pid "$worker" --ticket "$tk/01.ticket" --ticket "$tk/02.ticket" --ticket "$tk/03.ticket")"
check "started: job start received the issued tickets, the builders' one marked --builder" \
  bash -c '[ "$(wc -l <"$1")" = 3 ] && tail -1 "$1" | grep -q -- "--builder" && ! head -2 "$1" | grep -q -- "--builder"' _ "$log.tickets"
check "started: prints the job's cgroup to the job's log" out_has "job $id started: Runner.Worker (pid $worker) in /sys/fs/cgroup/execgate-jobs.slice/job.$id"
check "started: never runs anything of the job" no_run_calls

gh_hook "$started" RUNNER_NAME='Runner #2 (x86)'
want=$(job_id "gh-123-2-build-Runner #2 (x86)")
check "started: a runner name with other characters gives the sanitized id ($want)" \
  grep -q "^execgate job start $want --pid" "$log"
gh_hook "$completed" RUNNER_NAME='Runner #2 (x86)'
check "completed: derives the same sanitized id again" grep -qx "execgate job end $want" "$log"

# Runner.Worker further up: the hook run through a shell in between.
rm -f "$log"
rc=0
# shellcheck disable=SC2016
env -i PATH=/usr/bin:/bin HOME=/ TMPDIR="$t/tmp" FAKE_LOG="$log" EXECGATE_RUNNER_CONF="$conf" "${gh_env[@]}" \
  "${as_nobody[@]}" "$t/w/Runner.Worker" -c 'echo $$ >"$2"; sh -c "bash -e \"\$0\"; exit \$?" "$1"; exit $?' worker \
  "$started" "$t/log/worker.pid" >"$t/out" 2>"$t/err" || rc=$?
worker=$(cat "$t/log/worker.pid")
check "started: finds Runner.Worker as a grandparent (pid $worker)" grep -q -- "--pid $worker " "$log"

# Not under Runner.Worker: the hook run by a plain bash.
rm -f "$log"
rc=0
env -i PATH=/usr/bin:/bin HOME=/ TMPDIR="$t/tmp" FAKE_LOG="$log" EXECGATE_RUNNER_CONF="$conf" "${gh_env[@]}" \
  "${as_nobody[@]}" bash -c 'bash -e "$1"; exit $?' sh "$started" >"$t/out" 2>"$t/err" || rc=$?
check "started: no Runner.Worker ancestor: exit non-zero" [ "$rc" != 0 ]
check "started: no Runner.Worker ancestor: says so" err_has "no Runner.Worker among this hook's ancestors"
check "started: no Runner.Worker ancestor: signs and starts nothing" log_empty

gh_hook "$started" FAKE_SUDO_FAIL=1
check "started: sudo refused: exit non-zero" [ "$rc" != 0 ]
check "started: sudo refused: names sudo and the helper" err_has "sudo -n $helper failed"
check "started: sudo refused: no job start" no_job_start

gh_hook "$started" FAKE_FAIL=issue=1
check "started: issue fails: exit non-zero" [ "$rc" != 0 ]
check "started: issue fails: names execgate issue" err_has "execgate issue failed (exit 1)"
check "started: issue fails: no job start" no_job_start
check "started: issue fails: nothing of the job runs" no_run_calls

for code in 3 1; do
  gh_hook "$started" FAKE_FAIL="job start=$code"
  check "started: job start exits $code: exit non-zero" [ "$rc" != 0 ]
  check "started: job start exits $code: names it" err_has "execgate job start $id failed (exit $code): the job does not run"
  check "started: job start exits $code: job start was the last call" bash -c '[ "$(tail -1 "$1" | cut -d" " -f2,3)" = "job start" ]' _ "$log"
  check "started: job start exits $code: nothing of the job runs" no_run_calls
done

chmod 644 "$key"
gh_hook "$started"
chmod 600 "$key"
check "started: a key the runner's account can read: exit non-zero" [ "$rc" != 0 ]
check "started: a key the runner's account can read: says why" err_has "a job could sign its own tickets"
check "started: a key the runner's account can read: nothing signed" log_empty

gh_hook "$started" EXECGATE_RUNNER_CONF="$t/etc/owned-by-runner.conf"
check "started: a runner.conf the runner's account owns: exit non-zero, nothing called" bash -c '[ "$1" != 0 ] && [ ! -s "$2" ]' _ "$rc" "$log"
check "started: ... says why" err_has "owned-by-runner.conf is owned by uid $nobody_uid"
gh_hook "$completed" EXECGATE_RUNNER_CONF="$t/etc/owned-by-runner.conf"
check "completed: a runner.conf the runner's account owns: exit non-zero, nothing called" bash -c '[ "$1" != 0 ] && [ ! -s "$2" ]' _ "$rc" "$log"

gh_hook "$started" GITHUB_JOB=
check "started: GITHUB_JOB unset: exit non-zero, nothing called" bash -c '[ "$1" != 0 ] && [ ! -s "$2" ]' _ "$rc" "$log"
check "started: GITHUB_JOB unset: names it" err_has "GITHUB_JOB is not set"

gh_hook "$started" EXECGATE_RUNNER_CONF="$t/etc/evil.conf"
check "started: a toolchain binary in a directory the job can write: exit non-zero" [ "$rc" != 0 ]
check "started: ... names the directory" err_has "$t/evil is writable by group or others"
check "started: ... no job start" no_job_start

gh_hook "$started" EXECGATE_RUNNER_CONF="$t/etc/missing.conf"
check "started: no runner.conf: exit non-zero, nothing called" bash -c '[ "$1" != 0 ] && [ ! -s "$2" ]' _ "$rc" "$log"

saved=("${as_nobody[@]}")
as_nobody=()
gh_hook "$started"
as_nobody=("${saved[@]}")
check "started: a runner running as root: exit non-zero, nothing called" bash -c '[ "$1" != 0 ] && [ ! -s "$2" ]' _ "$rc" "$log"
check "started: a runner running as root: says why" err_has "the runner runs as root"

# die never exits 0, whatever the environment holds
gh_hook "$started" GITHUB_JOB= eg_fail_code=0
check "started: eg_fail_code=0 in the environment changes nothing: still non-zero" [ "$rc" != 0 ]

# --- GitHub Actions: job-completed --------------------------------------------------------

gh_hook "$completed"
check "completed: exit 0" [ "$rc" = 0 ]
expect_log "completed: exactly job end with the started hook's id" "$(call execgate job end "$id")"
gh_hook "$completed" FAKE_FAIL="job end=3"
check "completed: job end refused (3): exit non-zero" [ "$rc" != 0 ]
check "completed: job end refused: names it" err_has "execgate job end $id failed (exit 3)"

# --- GitLab Runner custom executor --------------------------------------------------------

printf '{"id":4242,"token":"glcbt-secret","job_info":{"id":7,"name":"test"}}' >"$t/gl/response.json"
chmod 644 "$t/gl/response.json"
gl_env=(CUSTOM_ENV_CI_JOB_ID=4242 CUSTOM_ENV_CI_PROJECT_PATH=acme/app CUSTOM_ENV_CI_PIPELINE_ID=99
  CUSTOM_ENV_CI_JOB_NAME=test BUILD_FAILURE_EXIT_CODE=71 SYSTEM_FAILURE_EXIT_CODE=72
  JOB_RESPONSE_FILE="$t/gl/response.json")
gl_conf=$t/etc/gitlab.conf
# gl DRIVER_SCRIPT [ARGS...]: runs it as gitlab-runner does (an executable, the job's
# variables prefixed CUSTOM_ENV_), with $gl_extra as more VAR=VALUE; rc, $t/out, $t/err.
gl_extra=()
gl_as=()
gl() {
  local script=$1
  shift
  rc=0
  env -i PATH=/usr/bin:/bin HOME=/ TMPDIR="$t/tmp" FAKE_LOG="$log" EXECGATE_RUNNER_CONF="$gl_conf" \
    "${gl_env[@]}" "${gl_extra[@]}" "${gl_as[@]}" "$t/runners/gitlab/$script" "$@" >"$t/out" 2>"$t/err" || rc=$?
}
gid=gitlab-4242
ginit="gitlab:acme/app pipeline 99 job 4242 test"
gl_issue_line() {
  local n=$1 kind=$2 extra=() bins=() b
  shift 2
  [ "$kind" = toolchain ] || extra=(--builder)
  for b in "$@"; do bins+=(--binary "$b"); done
  call execgate issue --key "$key" --delegation "$deleg" --job "$gid" "${extra[@]}" --ttl 2h --this-host \
    --initiator "$ginit" --purpose "CI job $gid: $kind" "${bins[@]}" -o "$tk/0$n.ticket"
}

# a stage script as the runner writes it, readable by the driver's account only
stage_script() { # stage_script BODY
  printf '#!/usr/bin/env bash\n%s\n' "$1" >"$t/gl/script"
  chmod 600 "$t/gl/script"
}

rm -f "$log" "$log.tickets"
gl prepare.sh
check "gitlab prepare (driver root, jobs as nobody): exit 0" [ "$rc" = 0 ]
expect_log "gitlab prepare: the driver signs itself (no sudo), then job start gitlab-<id> with the 3 tickets" \
  "$(gl_issue_line 1 toolchain /bin/true /bin/false)
$(gl_issue_line 2 toolchain /bin/sleep)
$(gl_issue_line 3 builders /bin/cat)
$(call execgate job start "$gid" --ticket "$tk/01.ticket" --ticket "$tk/02.ticket" --ticket "$tk/03.ticket")"

rm -f "$log"
gl_extra=(CUSTOM_ENV_CI_JOB_ID=9999)
gl prepare.sh
gl_extra=()
check "gitlab prepare: a job that sets CI_JOB_ID still gets the runner's id (JOB_RESPONSE_FILE)" grep -q "^execgate job start $gid " "$log"
check "gitlab prepare: ... and is warned" err_has "the job sets CI_JOB_ID=9999; using the runner's job id 4242"

rm -f "$log"
gl_extra=(JOB_RESPONSE_FILE=)
gl prepare.sh
gl_extra=()
check "gitlab prepare: no JOB_RESPONSE_FILE: SYSTEM_FAILURE_EXIT_CODE, nothing called" bash -c '[ "$1" = 72 ] && [ ! -s "$2" ]' _ "$rc" "$log"

rm -f "$log"
gl_extra=(FAKE_FAIL=issue=1)
gl prepare.sh
gl_extra=()
check "gitlab prepare: issue fails: SYSTEM_FAILURE_EXIT_CODE" [ "$rc" = 72 ]
check "gitlab prepare: issue fails: no job start" no_job_start

rm -f "$log"
gl_extra=("FAKE_FAIL=job start=3")
gl prepare.sh
gl_extra=()
check "gitlab prepare: job start refused: SYSTEM_FAILURE_EXIT_CODE" [ "$rc" = 72 ]
check "gitlab prepare: job start refused: the half-started job is ended for the runner's retry" \
  bash -c '[ "$(tail -2 "$1" | cut -d" " -f2-4)" = "job start gitlab-4242
job end gitlab-4242" ]' _ "$log"

rm -f "$log"
gl_conf=$t/etc/gitlab-noroot.conf
gl prepare.sh
gl_conf=$t/etc/gitlab.conf
check "gitlab prepare: driver root without EXECGATE_RUNNER_JOB_USER: SYSTEM_FAILURE_EXIT_CODE, nothing called" \
  bash -c '[ "$1" = 72 ] && [ ! -s "$2" ]' _ "$rc" "$log"
check "gitlab prepare: ... says why" err_has "refusing to run jobs as root"

# run: each stage's script through execgate run --job, as nobody
stage_script 'echo "stage ran as uid $(id -u) in $PWD"'
rm -f "$log"
gl run.sh "$t/gl/script" build_script
check "gitlab run: a script that succeeds: exit 0" [ "$rc" = 0 ]
check "gitlab run: the script ran as EXECGATE_RUNNER_JOB_USER (nobody)" out_has "stage ran as uid $nobody_uid"
check "gitlab run: one call, execgate run --job gitlab-<id> -- setpriv ... bash" \
  bash -c '[ "$(wc -l <"$1")" = 1 ] && grep -q "^execgate run --job gitlab-4242 -- [^ ]*setpriv --reuid=$2 --regid=[0-9]* --init-groups --reset-env -- bash -c " "$1"' _ "$log" "$nobody_uid"
check "gitlab run: the job is joined, not ended" bash -c '! grep -q "job end" "$1"' _ "$log"

gl run.sh run-arg-1 run-arg-2 "$t/gl/script" get_sources
check "gitlab run: run_args before SCRIPT STAGE are skipped" bash -c '[ "$1" = 0 ] && grep -q "stage ran" "$2"' _ "$rc" "$t/out"

for code in 1 3 126; do
  stage_script "exit $code"
  rm -f "$t/gl/exitcode"
  gl_extra=(BUILD_EXIT_CODE_FILE="$t/gl/exitcode")
  gl run.sh "$t/gl/script" build_script
  gl_extra=()
  check "gitlab run: the script exits $code: BUILD_FAILURE_EXIT_CODE" [ "$rc" = 71 ]
  check "gitlab run: the script exits $code: BUILD_EXIT_CODE_FILE holds $code" grep -qx "$code" "$t/gl/exitcode"
done

stage_script 'echo "stage ran"'
for code in 1 3; do
  gl_extra=("FAKE_FAIL=run=$code")
  gl run.sh "$t/gl/script" build_script
  gl_extra=()
  check "gitlab run: execgate run fails ($code) before the script: SYSTEM_FAILURE_EXIT_CODE" [ "$rc" = 72 ]
  check "gitlab run: ... says nothing of the stage ran" err_has "before the build_script script started"
  check "gitlab run: ... the script did not run" bash -c '! grep -q "stage ran" "$1"' _ "$t/out"
done

gl_conf=$t/etc/gitlab-noroot.conf
gl run.sh "$t/gl/script" build_script
gl_conf=$t/etc/gitlab.conf
check "gitlab run: driver root without a job user: SYSTEM_FAILURE_EXIT_CODE" [ "$rc" = 72 ]

# the driver itself unprivileged: tickets through sudo, the scripts as the driver
gl_as=("${as_nobody[@]}")
gl_conf=$t/etc/gitlab-noroot.conf
rm -f "$log"
gl prepare.sh
check "gitlab prepare (driver nobody): exit 0" [ "$rc" = 0 ]
check "gitlab prepare (driver nobody): signs through sudo -n, then job start" \
  bash -c '[ "$(cut -d" " -f1-4 "$1" | sed -n "1p;\$p")" = "sudo -n $2 gitlab-4242
execgate job start gitlab-4242" ]' _ "$log" "$helper"
stage_script 'echo "stage ran as uid $(id -u)"'
chmod 644 "$t/gl/script"
gl run.sh "$t/gl/script" build_script
check "gitlab run (driver nobody): the script runs as the driver's account" out_has "stage ran as uid $nobody_uid"
gl_as=()
gl_conf=$t/etc/gitlab.conf

rm -f "$log"
gl cleanup.sh
check "gitlab cleanup: exit 0" [ "$rc" = 0 ]
expect_log "gitlab cleanup: exactly job end gitlab-<id>" "$(call execgate job end "$gid")"
gl_extra=("FAKE_FAIL=job end=3")
gl cleanup.sh
gl_extra=()
check "gitlab cleanup: job end refused: SYSTEM_FAILURE_EXIT_CODE (a warning in the runner's log)" [ "$rc" = 72 ]

# --- the helper on its own ----------------------------------------------------------------

rc=0
env -i PATH=/usr/bin:/bin TMPDIR="$t/tmp" FAKE_LOG="$log" EXECGATE_RUNNER_CONF="$conf" \
  "$helper" 'bad id!' >"$t/out" 2>"$t/err" || rc=$?
check "sign-job-tickets: refuses an id outside the job id charset (usage, 2)" [ "$rc" = 2 ]
rm -f "$log"
rc=0
env -i PATH=/usr/bin:/bin TMPDIR="$t/tmp" FAKE_LOG="$log" EXECGATE_RUNNER_CONF="$conf" \
  "$helper" job-1 "me" >"$t/out" 2>"$t/err" || rc=$?
check "sign-job-tickets: prints one envelope a line, nothing else on stdout" \
  bash -c '[ "$1" = 0 ] && [ "$(wc -l <"$2")" = 3 ] && ! grep -qv "^{" "$2"' _ "$rc" "$t/out"
check "sign-job-tickets: leaves no temporary directory" bash -c '[ -z "$(ls -A "$1")" ]' _ "$t/tmp"

echo "runner hooks: $passed passed, $failed failed"
[ "$failed" = 0 ]
