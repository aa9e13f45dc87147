#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# help-for-man.sh HELP2MAN TOOL_BINARY NAME VERSION DESCRIPTION INCLUDE OUT
# help2man reads a program's --help; it takes the SYNOPSIS from lines that
# start with "Usage:" (capitalised), but some of our tools print "usage:".
# So help2man runs a wrapper named like the tool, which prints the tool's
# --help with that word capitalised and a further usage line (indented under
# the first) marked "or:", as help2man expects; nothing else is changed.
set -eu
help2man=$1 tool=$2 name=$3 version=$4 description=$5 include=$6 out=$7
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/$name" <<WRAP
#!/bin/sh
help=\$("$tool" "\$@") || exit
printf '%s\n' "\$help" | sed -e 's/^usage: /Usage: /' -e 's/^       \\($name \\)/   or: \\1/'
WRAP
chmod +x "$dir/$name"
"$help2man" --no-info --version-string="$version" \
  --name="$description" --include="$include" --output="$out" "$dir/$name"
