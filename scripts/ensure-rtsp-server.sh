#!/usr/bin/env bash
# The RTSP camera tests play from GStreamer's RTSP server, driven by Debian's Python (tests/camera/rtsp_server.py).
# Install it when missing; its Debian package pulls in the parsers and payloaders the server uses.
set -euo pipefail
PROBE='import gi; gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")'
if /usr/bin/python3 -c "$PROBE" 2>/dev/null; then
    exit 0
fi
echo "installing Debian's GStreamer RTSP server for the RTSP camera tests" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq &&
    $SUDO apt-get install -y -qq --no-install-recommends \
        python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good >/dev/null; }; then
    echo "ensure-rtsp-server: cannot install python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good" >&2
    exit 1
fi
if ! /usr/bin/python3 -c "$PROBE"; then
    echo "ensure-rtsp-server: installed, but /usr/bin/python3 still cannot load GstRtspServer 1.0" >&2
    exit 1
fi
