# shellcheck shell=bash
# apt_mirror_url: the Debian mirror this machine's apt uses (same host and URL scheme), from
# its sources (one-line or deb822 format); http://deb.debian.org/debian when none is found.
# Sourced by scripts/fetch-kernel.sh and scripts/host-image.sh.
apt_mirror_url() {
  local f u=
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    u=$(awk '
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
      /^[[:space:]]*deb[[:space:]]/ {
        for (i = 2; i <= NF; i++) { if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; continue }
          if ($i ~ /\/debian\/?$/) { print $i; exit } else break } }' "$f")
    [ -n "$u" ] && { echo "${u%/}"; return; }
  done
  echo "http://deb.debian.org/debian"
}
