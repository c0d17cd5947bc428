# shellcheck shell=bash
# shellcheck disable=SC2034 # eg_* variables set here are read by the scripts that source it
# Shared by the CI runner integrations (docs/ci.md), sourced, never run:
#   github/job-started.sh, github/job-completed.sh  (GitHub Actions runner job hooks)
#   gitlab/prepare.sh, gitlab/run.sh, gitlab/cleanup.sh  (GitLab Runner custom executor)
#   sign-job-tickets.sh  (signs a job's tickets with the runner's delegated key, run by
#                         the hooks through sudo when the account running the jobs must
#                         not read that key)
# Installed as /usr/share/execgate/runners/lib.sh. Every failure ends the calling script
# with a message naming what failed and the exit code in eg_fail_code: nothing here ever
# lets a job run ungated.

# set -e also inside $(...): a failure there must end the script, not yield an empty value
shopt -s inherit_errexit
# Set here, never taken from the environment; a script changes them after sourcing this.
eg_prog=execgate-runner
eg_fail_code=1 # the exit status of die; never 0
# 1 in sign-job-tickets.sh only: files its own account owns count as root's. Never in the
# hooks: they run as the account that runs the jobs, and a file that account owns is one a
# job can rewrite for the next job.
eg_trust_self=0
eg_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
  echo "$eg_prog: $*" >&2
  [[ $eg_fail_code =~ ^[1-9][0-9]{0,2}$ ]] || eg_fail_code=1
  exit "$eg_fail_code"
}

# The keys of runner.conf (docs/ci.md "runner.conf"). None is taken from the environment:
# a job's environment must not steer what its hooks sign or run.
eg_conf_keys=(EXECGATE_RUNNER_KEY EXECGATE_RUNNER_DELEGATION EXECGATE_RUNNER_TOOLCHAIN
  EXECGATE_RUNNER_BUILDERS EXECGATE_RUNNER_TTL EXECGATE_RUNNER_MAX_SUBJECTS
  EXECGATE_RUNNER_JOB_USER EXECGATE_RUNNER_PATH EXECGATE_BIN)

# eg_load_conf: reads runner.conf ($EXECGATE_RUNNER_CONF, default
# /etc/execgate/runner.conf) after checking that only root (eg_trust_self: or this
# account) can change it, applies the defaults and sets PATH to EXECGATE_RUNNER_PATH
# (the caller's PATH is kept in eg_caller_path).
eg_load_conf() {
  local conf=${EXECGATE_RUNNER_CONF:-/etc/execgate/runner.conf} k
  for k in "${eg_conf_keys[@]}"; do unset "$k"; done
  [ -f "$conf" ] || die "no runner configuration at $conf (docs/ci.md \"runner.conf\")"
  eg_check_trusted "$conf" "the runner configuration"
  # shellcheck source=packaging/runners/runner.conf
  . "$conf" || die "cannot read $conf"
  EXECGATE_BIN=${EXECGATE_BIN:-execgate}
  EXECGATE_RUNNER_TTL=${EXECGATE_RUNNER_TTL:-2h}
  EXECGATE_RUNNER_MAX_SUBJECTS=${EXECGATE_RUNNER_MAX_SUBJECTS:-256}
  EXECGATE_RUNNER_BUILDERS=${EXECGATE_RUNNER_BUILDERS:-}
  EXECGATE_RUNNER_JOB_USER=${EXECGATE_RUNNER_JOB_USER:-}
  EXECGATE_RUNNER_PATH=${EXECGATE_RUNNER_PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
  local need
  for need in EXECGATE_RUNNER_KEY EXECGATE_RUNNER_DELEGATION EXECGATE_RUNNER_TOOLCHAIN; do
    [ -n "${!need:-}" ] || die "$conf does not set $need (docs/ci.md \"runner.conf\")"
  done
  [[ $EXECGATE_RUNNER_TTL =~ ^[1-9][0-9]*[smhd]$ ]] ||
    die "$conf: EXECGATE_RUNNER_TTL=$EXECGATE_RUNNER_TTL is not a duration (90s, 15m, 2h, 1d)"
  if ! [[ $EXECGATE_RUNNER_MAX_SUBJECTS =~ ^[1-9][0-9]{0,2}$ ]] || [ "$EXECGATE_RUNNER_MAX_SUBJECTS" -gt 256 ]; then
    die "$conf: EXECGATE_RUNNER_MAX_SUBJECTS=$EXECGATE_RUNNER_MAX_SUBJECTS is not 1..256"
  fi
  eg_caller_path=${PATH:-}
  PATH=$EXECGATE_RUNNER_PATH
  export PATH
  command -v "$EXECGATE_BIN" >/dev/null || die "$EXECGATE_BIN not found (EXECGATE_BIN, PATH=$PATH)"
}

# eg_check_trusted FILE WHAT: FILE (symlinks resolved) is a regular file that only root
# (eg_trust_self: or this account) can change, nor can anyone else replace it: the file
# and every directory above it are owned by root (or this account) and writable by no
# group or other, but for sticky directories such as /tmp (whose entries only their owner
# may rename or remove). The rule baseline paths follow (docs/gate.md), applied to what
# the hooks read and sign.
eg_check_trusted() {
  local file=$1 what=$2 real me st owner mode dir
  me=$(id -u)
  real=$(readlink -f -- "$file") || die "$what $file: cannot resolve the path"
  [ -f "$real" ] || die "$what $file is not a regular file"
  dir=$real
  while :; do
    st=$(stat -c '%u %a' -- "$dir") || die "$what $file: cannot stat $dir"
    owner=${st% *} mode=${st#* }
    if [ "$owner" != 0 ] && { [ "$eg_trust_self" != 1 ] || [ "$owner" != "$me" ]; }; then
      die "$what $file: $dir is owned by uid $owner: only root may own what a runner signs or reads (docs/ci.md)"
    fi
    if ((8#$mode & 8#022)) && { [ "$dir" = "$real" ] || ! ((8#$mode & 8#1000)); }; then
      die "$what $file: $dir is writable by group or others (mode $mode): a job could change it (docs/ci.md)"
    fi
    [ "$dir" = / ] && break
    dir=$(dirname -- "$dir")
  done
}

# eg_job_id RAW: RAW as a job id (1..100 of [A-Za-z0-9._-], first alphanumeric). Other
# characters become '_'; when that changed anything, or RAW is longer than 100, the id
# keeps its first 87 characters and ends in '-' and 12 hex digits of RAW's SHA-256, so
# two different RAWs never share an id.
eg_job_id() {
  local raw=$1 id hash
  id=$(printf '%s' "$raw" | LC_ALL=C tr -c 'A-Za-z0-9._-' '_') || die "tr failed on '$raw'"
  if [ "$id" != "$raw" ] || [ "${#id}" -gt 100 ]; then
    hash=$(printf '%s' "$raw" | sha256sum | cut -c1-12) || die "sha256sum failed on '$raw'"
    [[ $hash =~ ^[0-9a-f]{12}$ ]] || die "sha256sum gave no digest for '$raw'"
    id=${id:0:87}-$hash
  fi
  [[ $id =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$ ]] || die "cannot make a job id of '$raw'"
  printf '%s\n' "$id"
}

# eg_printable TEXT: TEXT with what is not printable dropped, at most 256 characters (a
# ticket's initiator: audit text, partly from the job's own variables).
eg_printable() {
  printf '%s' "$1" | LC_ALL=C tr -cd '[:print:]' | cut -c1-256
}

# eg_valid_job_id ID: ID is already a job id.
eg_valid_job_id() {
  [[ ${1:-} =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$ ]]
}

# eg_read_list FILE: the absolute paths FILE lists, one a line ('#' comments and blank
# lines skipped, surrounding blanks trimmed), into the array eg_list.
eg_read_list() {
  local file=$1 line n=0
  eg_list=()
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%%#*}
    line=${line#"${line%%[![:space:]]*}"}
    line=${line%"${line##*[![:space:]]}"}
    [ -n "$line" ] || continue
    [ "${line#/}" != "$line" ] || die "$file:$n: '$line' is not an absolute path"
    eg_list+=("$line")
  done <"$file" || die "cannot read $file"
}

# eg_sign_direct ID INITIATOR OUTDIR: signs the job's tickets with the delegated key
# (this process reads it) into OUTDIR/01.ticket, 02.ticket, ...: the toolchain list in
# tickets of up to EXECGATE_RUNNER_MAX_SUBJECTS binaries, then the builders list the same
# way with --builder. Each ticket is valid only inside job ID, on this host, for
# EXECGATE_RUNNER_TTL.
eg_sign_direct() {
  local id=$1 initiator=$2 out=$3 st mode
  eg_valid_job_id "$id" || die "'$id' is not a job id"
  [ -f "$EXECGATE_RUNNER_KEY" ] || die "the delegate key $EXECGATE_RUNNER_KEY does not exist (EXECGATE_RUNNER_KEY)"
  st=$(stat -L -c '%u %a' -- "$EXECGATE_RUNNER_KEY") || die "cannot stat $EXECGATE_RUNNER_KEY"
  mode=${st#* }
  if { [ "${st% *}" != 0 ] && [ "${st% *}" != "$(id -u)" ]; } || ((8#$mode & 8#077)); then
    die "the delegate key $EXECGATE_RUNNER_KEY must be owned by root (or the signing account) and readable by its owner only (mode 0600 or 0400; it is uid ${st% *}, mode $mode)"
  fi
  [ -r "$EXECGATE_RUNNER_DELEGATION" ] ||
    die "the delegation $EXECGATE_RUNNER_DELEGATION cannot be read (EXECGATE_RUNNER_DELEGATION)"
  local n=0 kind list f
  for kind in toolchain builders; do
    list=$EXECGATE_RUNNER_TOOLCHAIN
    [ "$kind" = toolchain ] || list=$EXECGATE_RUNNER_BUILDERS
    [ -n "$list" ] || continue
    eg_check_trusted "$list" "the $kind list"
    eg_read_list "$list"
    local paths=("${eg_list[@]}")
    for f in "${paths[@]}"; do
      eg_check_trusted "$f" "$kind binary (listed in $list)"
      [ -x "$f" ] || die "$kind binary $f (listed in $list) is not executable"
    done
    local i=0 chunk extra=()
    [ "$kind" = toolchain ] || extra=(--builder)
    while [ "$i" -lt "${#paths[@]}" ]; do
      chunk=()
      for f in "${paths[@]:i:EXECGATE_RUNNER_MAX_SUBJECTS}"; do chunk+=(--binary "$f"); done
      i=$((i + EXECGATE_RUNNER_MAX_SUBJECTS))
      n=$((n + 1))
      local ticket
      ticket=$out/$(printf '%02d' "$n").ticket
      # issue's report goes to stderr: stdout may be sign-job-tickets.sh's ticket stream
      "$EXECGATE_BIN" issue --key "$EXECGATE_RUNNER_KEY" --delegation "$EXECGATE_RUNNER_DELEGATION" \
        --job "$id" "${extra[@]}" --ttl "$EXECGATE_RUNNER_TTL" --this-host \
        --initiator "$initiator" --purpose "CI job $id: $kind" "${chunk[@]}" -o "$ticket" >&2 ||
        die "execgate issue failed (exit $?) for the $kind of job $id: no ticket, so the job does not run"
      [ -s "$ticket" ] || die "execgate issue wrote no ticket to $ticket"
    done
  done
}

# eg_sign_via_sudo ID INITIATOR OUTDIR: the same tickets, signed by sign-job-tickets.sh
# run through `sudo -n` (docs/ci.md "Who may read the key"): the account running the jobs
# never reads the key. The helper prints one ticket envelope a line.
eg_sign_via_sudo() {
  local id=$1 initiator=$2 out=$3 helper=$eg_dir/sign-job-tickets.sh line n=0 stream
  if [ -r "$EXECGATE_RUNNER_KEY" ]; then
    die "the delegate key $EXECGATE_RUNNER_KEY is readable by $(id -un), the account that runs the jobs: a job could sign its own tickets; make it readable by root only (docs/ci.md \"Who may read the key\")"
  fi
  stream=$(sudo -n "$helper" "$id" "$initiator") ||
    die "sudo -n $helper failed (exit $?): the job's tickets were not signed (is the sudoers rule of docs/ci.md in place?)"
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    [ "${line:0:1}" = "{" ] || die "$helper printed something that is no ticket envelope: ${line:0:80}"
    n=$((n + 1))
    printf '%s\n' "$line" >"$out/$(printf '%02d' "$n").ticket"
  done <<<"$stream"
}

# eg_sign MODE ID INITIATOR OUTDIR: MODE direct or sudo; the ticket files into
# eg_tickets (may be empty: empty lists sign nothing).
eg_sign() {
  local mode=$1 id=$2 initiator=$3 out=$4 f
  case $mode in
    direct) eg_sign_direct "$id" "$initiator" "$out" ;;
    sudo) eg_sign_via_sudo "$id" "$initiator" "$out" ;;
    *) die "internal: sign mode $mode" ;;
  esac
  eg_tickets=()
  for f in "$out"/*.ticket; do
    [ -e "$f" ] && eg_tickets+=("$f")
  done
  return 0
}

# eg_ticket_args: --ticket FILE for each of eg_tickets, into eg_args.
eg_ticket_args() {
  local f
  eg_args=()
  for f in "${eg_tickets[@]}"; do eg_args+=(--ticket "$f"); done
}

# --- GitHub Actions ---------------------------------------------------------------------

# eg_github_job_id: the job's id, from variables a workflow cannot override (GITHUB_* and
# RUNNER_*): gh-<run id>-<attempt>-<job>-<runner name>. The runner's name keeps two legs
# of a matrix (same run, attempt and job id) apart when two runners of one host take them.
eg_github_job_id() {
  local v
  for v in GITHUB_RUN_ID GITHUB_RUN_ATTEMPT GITHUB_JOB RUNNER_NAME; do
    [ -n "${!v:-}" ] || die "$v is not set: this script is a job hook of the GitHub Actions runner (ACTIONS_RUNNER_HOOK_JOB_STARTED / _COMPLETED)"
  done
  eg_job_id "gh-$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT-$GITHUB_JOB-$RUNNER_NAME"
}

# eg_find_worker PID: the nearest process named Runner.Worker among PID and its
# ancestors (/proc/PID/comm; the parent from /proc/PID/stat), printed; 1 if none.
eg_find_worker() {
  local pid=$1 hops=0 comm stat rest state ppid
  while [ "$pid" -gt 1 ] && [ "$hops" -lt 64 ]; do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    if [ "$comm" = Runner.Worker ]; then
      printf '%s\n' "$pid"
      return 0
    fi
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    rest=${stat##*) } # comm, field 2, may hold spaces and parentheses
    read -r state ppid _ <<<"$rest"
    : "$state"
    [[ $ppid =~ ^[0-9]+$ ]] || return 1
    pid=$ppid
    hops=$((hops + 1))
  done
  return 1
}

# --- GitLab Runner custom executor ------------------------------------------------------

# eg_gitlab_job_id: gitlab-<job id>, the id read from the runner's JOB_RESPONSE_FILE (the
# trusted job context: a job may override its own CUSTOM_ENV_CI_JOB_ID, as it may any
# predefined variable).
eg_gitlab_job_id() {
  local resp=${JOB_RESPONSE_FILE:-} id
  [ -n "$resp" ] ||
    die "JOB_RESPONSE_FILE is not set: these scripts need a GitLab Runner that provides it (custom executor, \"Job response\"); CUSTOM_ENV_CI_JOB_ID alone is not trusted, a job can set it"
  [ -r "$resp" ] || die "cannot read JOB_RESPONSE_FILE $resp"
  if command -v jq >/dev/null; then
    id=$(jq -er '.id | select(type == "number")' "$resp") || die "$resp holds no numeric id"
  elif command -v python3 >/dev/null; then
    id=$(python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))["id"]
assert isinstance(v, int) and not isinstance(v, bool)
print(v)' "$resp" 2>/dev/null) || die "$resp holds no numeric id"
  else
    die "reading $resp needs jq or python3: install one"
  fi
  [[ $id =~ ^[0-9]{1,19}$ ]] || die "$resp: job id '$id' is not a number"
  if [ -n "${CUSTOM_ENV_CI_JOB_ID:-}" ] && [ "$CUSTOM_ENV_CI_JOB_ID" != "$id" ]; then
    echo "$eg_prog: warning: the job sets CI_JOB_ID=$CUSTOM_ENV_CI_JOB_ID; using the runner's job id $id" >&2
  fi
  printf 'gitlab-%s\n' "$id"
}

# eg_gitlab_accounts: who signs and who runs the job's scripts. A driver running as root
# signs itself (direct) and runs the scripts as EXECGATE_RUNNER_JOB_USER (required, not
# root: a root job could read the key); otherwise the scripts run as the driver's own
# account and the tickets are signed through sudo. Sets eg_sign_mode, eg_job_uid and
# eg_job_gid (empty when no switch is made).
eg_gitlab_accounts() {
  local me u
  me=$(id -u)
  eg_job_uid='' eg_job_gid=''
  if [ "$me" = 0 ]; then
    [ -n "$EXECGATE_RUNNER_JOB_USER" ] ||
      die "the driver runs as root and runner.conf sets no EXECGATE_RUNNER_JOB_USER: refusing to run jobs as root (a root job could read the delegate key)"
    eg_job_uid=$(id -u "$EXECGATE_RUNNER_JOB_USER" 2>/dev/null) ||
      die "EXECGATE_RUNNER_JOB_USER=$EXECGATE_RUNNER_JOB_USER: no such user"
    [ "$eg_job_uid" != 0 ] || die "EXECGATE_RUNNER_JOB_USER=$EXECGATE_RUNNER_JOB_USER is root: refusing to run jobs as root"
    eg_job_gid=$(id -g "$EXECGATE_RUNNER_JOB_USER")
    eg_sign_mode=direct
  else
    if [ -n "$EXECGATE_RUNNER_JOB_USER" ]; then
      u=$(id -u "$EXECGATE_RUNNER_JOB_USER" 2>/dev/null) || die "EXECGATE_RUNNER_JOB_USER=$EXECGATE_RUNNER_JOB_USER: no such user"
      [ "$u" = "$me" ] ||
        die "EXECGATE_RUNNER_JOB_USER=$EXECGATE_RUNNER_JOB_USER: running jobs as another account needs the driver to run as root (it runs as $(id -un))"
    fi
    eg_sign_mode=sudo
  fi
}
