#!/usr/bin/python3
"""Drops files on the window at a screen point the way a person does, for the end-to-end tests under Xvfb.

Usage: drag_source.py X Y FILE...

A small GTK window (the drag source, as a file manager is) offers the files as text/uri-list. The X server's XTest
extension then moves the real pointer onto it, presses the button, moves to (X, Y) and releases: the X server and
GTK carry out a real XDND drag and drop with whatever window is at (X, Y), which gets the files exactly as from a
file manager. Exit 0 when the target accepted the drop, 1 when it refused or nothing happened in time, 2 on usage.
"""

import ctypes
import ctypes.util
import pathlib
import sys

import gi

gi.require_version("Gdk", "3.0")
gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

# The source window: this size, at the top right corner of the screen, outside the app's window (1280 pixels wide
# at the top left; `make e2e` runs Xvfb with a 1440x900 screen).
SOURCE_SIZE = 120
TIMEOUT_MS = 15000


def main(argv):
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        tx, ty = int(argv[1]), int(argv[2])
    except ValueError:
        print("X and Y must be integers", file=sys.stderr)
        return 2
    uris = [pathlib.Path(f).resolve().as_uri() for f in argv[3:]]

    xlib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    xtst = ctypes.CDLL(ctypes.util.find_library("Xtst") or "libXtst.so.6")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XFlush.argtypes = [ctypes.c_void_p]
    xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
    xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
    dpy = xlib.XOpenDisplay(None)
    if not dpy:
        print("cannot open the X display", file=sys.stderr)
        return 1

    def motion(x, y):
        xtst.XTestFakeMotionEvent(dpy, -1, x, y, 0)
        xlib.XFlush(dpy)

    def button(press):
        xtst.XTestFakeButtonEvent(dpy, 1, 1 if press else 0, 0)
        xlib.XFlush(dpy)

    result = {"code": 1, "why": "no drag happened"}
    sw = sh = SOURCE_SIZE
    screen = Gdk.Display.get_default().get_monitor(0).get_geometry()
    sx, sy = screen.x + screen.width - sw - 10, screen.y + 10
    win = Gtk.Window(title="auditlens-e2e-drag-source")
    win.set_default_size(sw, sh)
    win.move(sx, sy)
    win.set_keep_above(True)
    box = Gtk.EventBox()
    box.add(Gtk.Label(label="drag me"))
    win.add(box)
    box.drag_source_set(
        Gdk.ModifierType.BUTTON1_MASK, [Gtk.TargetEntry.new("text/uri-list", 0, 0)], Gdk.DragAction.COPY
    )
    box.connect("drag-data-get", lambda _w, _ctx, data, _info, _time: data.set_uris(uris))

    def failed(_w, _ctx, why):
        result.update(code=1, why=f"the drop was refused ({why.value_nick})")
        return True

    def ended(_w, _ctx):
        if result["why"] == "no drag happened":
            result.update(code=0, why="dropped")
        GLib.timeout_add(200, Gtk.main_quit)

    box.connect("drag-failed", failed)
    box.connect("drag-end", ended)

    # The gesture, one step per tick (50 ms): onto the source, press, a few moves to start the drag, across to the
    # target, a pause over it (the target asks for the data while the pointer moves over it), release.
    cx, cy = sx + sw // 2, sy + sh // 2
    steps = [lambda: motion(cx, cy), lambda: button(True)]
    steps += [lambda i=i: motion(cx - 4 * i, cy + 4 * i) for i in range(1, 6)]
    n = 20
    steps += [lambda i=i: motion(cx + (tx - cx) * i // n, cy + (ty - cy) * i // n) for i in range(1, n + 1)]
    steps += [lambda: motion(tx + 1, ty), lambda: motion(tx, ty), lambda: None, lambda: None]
    # After the release, the pointer goes back onto the source: nothing in the app stays hovered.
    steps += [lambda: button(False), lambda: None, lambda: motion(cx, cy)]

    def tick():
        if steps:
            steps.pop(0)()
            return True
        return False

    def mapped(*_):
        if not started:
            started.append(True)
            # The gesture starts once the window is surely on screen.
            GLib.timeout_add(300, lambda: GLib.timeout_add(50, tick) and False)
        return False

    started = []

    def give_up():
        button(False)
        result["why"] += f" within {TIMEOUT_MS} ms"
        Gtk.main_quit()
        return False

    win.connect("map-event", mapped)
    win.show_all()
    GLib.timeout_add(TIMEOUT_MS, give_up)
    Gtk.main()
    if result["code"] != 0:
        print(result["why"], file=sys.stderr)
    return result["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
