#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# plugin/screenshot.sh [PLUGIN_SO] [OUT_PNG] — a PNG of the Wireshark Qt GUI
# showing captures/presence-pubsub.pcapng decoded by the plugin, a presence
# packet selected and its HMTP tree expanded. Not part of the test suite.
#
# Needs (Debian 12): apt-get install -y --no-install-recommends wireshark-qt
#   xvfb x11-apps xdotool imagemagick
# Runs from the repository root. Wireshark ignores personal plugins as root,
# so as root the GUI runs as nobody with a throwaway HOME, like the tests.
set -euo pipefail
so=${1:-build/plugin/hmtp.so}
out=${2:-plugin/screenshot.png}
capture=captures/presence-pubsub.pcapng
frame=${HMTP_SCREENSHOT_FRAME:-27} # a presence carrying an example.Capabilities payload
display=:${HMTP_SCREENSHOT_DISPLAY:-97}
for tool in wireshark Xvfb xdotool xwd convert; do
  command -v "$tool" >/dev/null || { echo "screenshot: $tool is missing (see the header)" >&2; exit 1; }
done
[ -f "$so" ] || { echo "screenshot: no plugin at $so (build the hmtp_plugin target)" >&2; exit 1; }

abi=$(tshark --version 2>/dev/null | sed -n '1s/.* \([0-9]*\.[0-9]*\)\.[0-9]*.*/\1/p')
dir=$(mktemp -d /tmp/hmtp-screenshot.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/plugins/$abi/epan" "$dir/home" "$dir/extcap" "$dir/xdg"
cp "$so" "$dir/plugins/$abi/epan/hmtp.so"
cp "$capture" "$dir/capture.pcapng"
chmod -R a+rwX "$dir"

Xvfb "$display" -screen 0 1280x1280x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
sleep 1

run=(env DISPLAY="$display" HOME="$dir/home" XDG_RUNTIME_DIR="$dir/xdg" WIRESHARK_PLUGIN_DIR="$dir/plugins"
     WIRESHARK_EXTCAP_DIR="$dir/extcap" QT_QPA_PLATFORM=xcb)
if [ "$(id -u)" -eq 0 ]; then
  run=(setpriv --reuid=nobody --regid=nogroup --clear-groups "${run[@]}")
fi
"${run[@]}" wireshark -r "$dir/capture.pcapng" -g "$frame" -o gui.ask_unsaved:FALSE \
  -o gui.update.enabled:FALSE >"$dir/wireshark.log" 2>&1 &
pids+=($!)

export DISPLAY="$display"
win=$(xdotool search --sync --onlyvisible --name "capture" | head -1)
sleep 4
xdotool windowsize "$win" 1280 1280 windowmove "$win" 0 0
sleep 1
# Frame $frame is selected. A click on the first row of the details pane
# (at a fixed place: the window size fixes the layout; Tab does not move the
# focus there under Xvfb), End to the last protocol (HMTP), Shift+Right
# expands its subtrees. (No window manager under Xvfb: focus the
# window ourselves, and send real events, which Qt takes, rather than
# synthetic --window ones.)
xdotool windowfocus --sync "$win" 2>/dev/null || true
xdotool mousemove 150 685 click 1
sleep 0.5
xdotool key End
sleep 0.5
xdotool key shift+Right
sleep 2
xwd -root -silent | convert xwd:- -strip -colors 128 "png8:$out"
echo "screenshot: wrote $out ($(stat -c %s "$out") bytes)"
