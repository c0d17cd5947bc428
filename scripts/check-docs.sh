#!/usr/bin/env bash
# Checks that what the docs (docs/*.md, README.md) name exists in the tree:
#   - every repository path (bpf/, userspace/, include/, policies/, tests/, scripts/, docs/,
#     packaging/, bench/, .ci/; a trailing / for a directory) and every doc named bare
#     (`gate.md`), placeholders and globs left out (`*`, `<`, `{`, `$`, `...`, a component
#     in capitals such as NAME or N);
#   - every source file named bare in backticks (`decision.h`) is a file of the tree;
#   - every section a doc is cited by (`docs/gate.md "Exec clock"`: a heading, or a
#     paragraph's bold lead, holding it);
#   - every script run as a command (the first word of a backticked span or of a line in a
#     code block, after VAR=value words) exists and is executable;
#   - every build output (`build/...`, `build-offline/...`) is a CMake target or output of
#     the tree's CMakeLists.txt files (the binary itself is not looked for);
#   - every `execgate VERB [SUBVERB]` is a verb the CLI registers (add_subcommand in
#     userspace/cli/).
# Prints `FILE:LINE: what is missing` for each miss and exits 1; otherwise a one-line
# summary and exit 0. Run by scripts/test.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

docs=(README.md docs/*.md)

# Everything the docs name, one record per line: KIND<TAB>FILE<TAB>LINE<TAB>VALUE[<TAB>VALUE2]
extract() {
  awk '
    BEGIN { OFS = "\t"; top = "(bpf|userspace|include|policies|tests|scripts|docs|packaging|bench|\\.ci)" }
    FNR == 1 { fence = 0; open = 0 }
    function emit(kind, v, v2) { if (v2 == "") print kind, FILENAME, FNR, v; else print kind, FILENAME, FNR, v, v2 }
    # The leading delimiter a match may carry (never a letter or a dot) is dropped.
    function strip(t) { if (substr(t, 1, 1) !~ /[A-Za-z.]/) t = substr(t, 2); return t }
    # A command: its words after VAR=value assignments (quoted values may hold spaces).
    # A script counts as run when it has arguments or VAR= words, or is a code block line;
    # a span holding only its path names it.
    function command(seg, fenced,   n, w, i, q, a) {
      n = split(seg, w, /[ \t]+/)
      i = 1
      while (i <= n && w[i] == "") i++
      if (w[i] == "$") i++
      a = i
      while (i <= n && w[i] ~ /^[A-Za-z_][A-Za-z0-9_]*=/) {
        q = substr(w[i], index(w[i], "=") + 1, 1)
        if ((q == "\"" || q == "\047") && substr(w[i], length(w[i])) != q || w[i] ~ /=["\047]$/)
          while (++i <= n && substr(w[i], length(w[i])) != q) {}
        i++
      }
      if (i > n) return
      while (n > i && w[n] == "") n--
      if (w[i] ~ ("^" top "/[A-Za-z0-9_./-]*[a-z0-9]$") && w[i] ~ /^(scripts\/|tests\/.*\.sh$|\.ci\/)/ && (fenced || i > a || n > i)) emit("cmd", w[i])
      if (w[i] == "execgate" && w[i + 1] ~ /^[a-z][a-z-]*$/) emit("verb", w[i + 1], (w[i + 2] ~ /^[a-z][a-z-]*$/) ? w[i + 2] : "")
    }
    function spans(text, fenced,   segs, n, i) {
      gsub(/&&|\|\||;|\||\(|\)/, "\n", text)
      n = split(text, segs, "\n")
      for (i = 1; i <= n; i++) command(segs[i], fenced)
    }
    /^[ \t]*```/ { fence = !fence; open = 0; next }
    /^[ \t]*$/ { open = 0 }
    {
      line = $0
      s = line
      while (match(s, "(^|[^A-Za-z0-9_./$~-])" top "/[A-Za-z0-9_.*<>{}$+@/-]*")) {
        emit("path", strip(substr(s, RSTART, RLENGTH))); s = substr(s, RSTART + RLENGTH)
      }
      s = line
      while (match(s, /(^|[^A-Za-z0-9_.\/$~-])build(-offline)?\/[A-Za-z0-9_.\/-]*/)) {
        emit("build", strip(substr(s, RSTART, RLENGTH))); s = substr(s, RSTART + RLENGTH)
      }
      s = line
      while (match(s, /(^|[^A-Za-z0-9_.\/$~-])[A-Za-z][A-Za-z0-9_-]*\.md/)) {
        t = strip(substr(s, RSTART, RLENGTH)); s = substr(s, RSTART + RLENGTH)
        if (s !~ /^[A-Za-z0-9_\/-]/) emit("doc", t)
      }
      s = line
      while (match(s, /[A-Za-z][A-Za-z0-9_-]*\.md,? \(?"[^"]+"/)) {
        t = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
        d = t; sub(/,? \(?".*/, "", d)
        sec = t; sub(/^[^"]*"/, "", sec); sub(/"$/, "", sec)
        emit("section", d, sec)
      }
      # a source file named bare in backticks (`tamper.h`): one of that name is in the tree
      s = line
      while (match(s, /`[a-z][a-z0-9_-]*\.(h|c|cpp|sh)`/)) {
        emit("source", substr(s, RSTART + 1, RLENGTH - 2)); s = substr(s, RSTART + RLENGTH)
      }
      if (fence) { spans(line, 1); next }
      # A backticked span may go on over the next lines of its paragraph.
      n = split(line, part, "`")
      for (i = open ? 1 : 2; i <= n; i += 2) spans(part[i], 0)
      if (n > 0 && n % 2 == 0) open = !open
    }
  ' "${docs[@]}"
}

# A name with a placeholder or a glob in it names no one file.
placeholder() {
  case $1 in *'*'* | *'<'* | *'{'* | *'$'* | *'...'* | *NAME*) return 0 ;; esac
  local IFS=/ c
  for c in $1; do
    [[ "$c" =~ ^[A-Z][A-Z_0-9]*(\.[a-z]+)?$ ]] && return 0
  done
  return 1
}

# The doc a bare name means: docs/NAME, else NAME at the top.
doc_path() {
  case $1 in */*) echo "$1" ;; *) if [ -e "docs/$1" ]; then echo "docs/$1"; else echo "$1"; fi ;; esac
}

mapfile -t cmakes < <(git ls-files '*CMakeLists.txt' 2>/dev/null)
[ "${#cmakes[@]}" -gt 0 ] || mapfile -t cmakes < <(find . -name CMakeLists.txt -not -path './build*' -not -path './.git/*')
[ "${#cmakes[@]}" -gt 0 ] || { echo "check-docs: no CMakeLists.txt found" >&2; exit 1; }
# A CMake target (or output file) of that name: declared by name, made by one of the
# tree's per-file rules (tests/bench/*_bench.cpp, tests/unit/<area>_*_test.cpp, the fuzz
# targets' list), or a file a custom command writes.
cmake_target() {
  local t=$1
  grep -Eq "add_(executable|library|custom_target)\([[:space:]]*$t([[:space:])]|\$)" "${cmakes[@]}" && return 0
  if [[ "$t" =~ ^execgate_(.+)_bench$ ]]; then [ -e "tests/bench/${BASH_REMATCH[1]}_bench.cpp" ] && return 0; fi
  if [[ "$t" =~ ^execgate_(.+)_tests$ ]]; then compgen -G "tests/unit/${BASH_REMATCH[1]}_*_test.cpp" >/dev/null && return 0; fi
  if [[ "$t" =~ ^execgate_(.+)_fuzz$ ]]; then grep -Eq "foreach\(name [^)]*\<${BASH_REMATCH[1]}\>" tests/fuzz/CMakeLists.txt && return 0; fi
  grep -Fq "/$t" "${cmakes[@]}"
}

# The CLI's verbs: "verb" and "verb subverb", from the add_subcommand calls of userspace/cli/.
declare -A verbs=() parents=()
for f in userspace/cli/*.cpp; do
  declare -A var=()
  while read -r v p n; do
    if [ "$p" = app ]; then
      var[$v]=$n
      verbs[$n]=1
    else
      parent=${var[$p]:-$p}
      verbs["$parent $n"]=1
      parents[$parent]=1
    fi
  done < <(tr '\n' ' ' <"$f" |
    grep -oE 'auto\*[[:space:]]*[A-Za-z_]+[[:space:]]*=[[:space:]]*[A-Za-z_]+(->|\.)add_subcommand\([[:space:]]*"[a-z-]+"' |
    sed -E 's/auto\*[[:space:]]*([A-Za-z_]+)[[:space:]]*=[[:space:]]*([A-Za-z_]+)(->|\.)add_subcommand\([[:space:]]*"([a-z-]+)"/\1 \2 \4/')
  unset var
done
[ "${#verbs[@]}" -gt 0 ] || { echo "check-docs: no add_subcommand found in userspace/cli/" >&2; exit 1; }
# Format headers that begin with the word execgate (key files, the state seal) are no verbs.
not_verbs=" public secret installed "

# The tree's file names, for the sources named bare.
declare -A sources=()
while read -r f; do sources[${f##*/}]=1; done < <(git ls-files 2>/dev/null || find . -type f -not -path './.git/*')

missing=0 checked=0
miss() { echo "$1:$2: $3"; missing=$((missing + 1)); }
while IFS=$'\t' read -r kind file line value value2; do
  checked=$((checked + 1))
  case $kind in
    path)
      while [ "${value%.}" != "$value" ]; do value=${value%.}; done
      placeholder "$value" && continue
      if [ "${value%/}" != "$value" ]; then
        [ -d "$value" ] || miss "$file" "$line" "$value does not exist"
      else
        [ -e "$value" ] || miss "$file" "$line" "$value does not exist"
      fi
      ;;
    source)
      [ -n "${sources[$value]:-}" ] || miss "$file" "$line" "no file $value in the tree"
      ;;
    doc)
      [ -e "$(doc_path "$value")" ] || miss "$file" "$line" "$value does not exist"
      ;;
    section)
      doc=$(doc_path "$value")
      [ -e "$doc" ] || continue # reported as a doc
      grep -E '^(#+ |\*\*)' "$doc" | grep -qF -- "$value2" || miss "$file" "$line" "$doc has no section \"$value2\""
      ;;
    cmd)
      placeholder "$value" && continue
      if [ -e "$value" ] && [ ! -x "$value" ]; then
        miss "$file" "$line" "$value is run as a command but is not executable"
      fi
      ;;
    build)
      while [ "${value%.}" != "$value" ]; do value=${value%.}; done
      [ "${value%/}" = "$value" ] || continue # build/, build-offline/: directories CMake makes
      cmake_target "${value##*/}" || miss "$file" "$line" "$value: no CMake target or output ${value##*/}"
      ;;
    verb)
      case $not_verbs in *" $value "*) continue ;; esac
      if [ -z "${verbs[$value]:-}" ]; then
        miss "$file" "$line" "execgate $value is not a verb of the CLI (userspace/cli/)"
      elif [ -n "$value2" ] && [ -n "${parents[$value]:-}" ] && [ -z "${verbs["$value $value2"]:-}" ]; then
        miss "$file" "$line" "execgate $value $value2 is not a verb of the CLI (userspace/cli/)"
      fi
      ;;
  esac
done < <(extract)

if [ "$missing" -gt 0 ]; then
  echo "check-docs: $missing of $checked names in ${#docs[@]} docs do not exist" >&2
  exit 1
fi
echo "check-docs: all $checked paths, sections, scripts, build targets and CLI verbs named in ${#docs[@]} docs exist"
