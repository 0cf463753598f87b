#!/usr/bin/env python3
"""What a terminal shows: feeds standard input (a command's output, as bytes) to the pyte terminal emulator
(https://github.com/selectel/pyte; Debian package python3-pyte) and compares the screen with the text itself,
line by line (tabs expanded to 8 columns, trailing blanks dropped). They differ when anything in the output acts
on the terminal instead of being shown: an escape or control sequence that clears, moves the cursor, recolours or
sets the title, a carriage return that overwrites a line, a backspace. Exit 0 when the screen shows exactly the
text, 1 with the first differing line otherwise, 2 on bad use.

The newline acts as on a terminal in cooked mode (the tty's ONLCR: new line and first column).
"""
import sys

try:
    import pyte
except ImportError:
    print("terminal_screen.py: the pyte module is missing (apt-get install python3-pyte)", file=sys.stderr)
    sys.exit(2)


def main():
    data = sys.stdin.buffer.read()
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    expected = [line.expandtabs(8).rstrip(" ") for line in lines]
    columns = max([len(line) for line in expected] + [80]) + 8
    screen = pyte.Screen(columns, len(expected) + 2)
    screen.set_mode(pyte.modes.LNM)
    stream = pyte.ByteStream(screen)
    stream.feed(data)
    shown = [line.rstrip(" ") for line in screen.display]
    for i, want in enumerate(expected):
        if shown[i] != want:
            print(f"line {i + 1}: the terminal shows {shown[i]!r}, the text is {want!r}")
            return 1
    for i in range(len(expected), len(shown)):
        if shown[i]:
            print(f"line {i + 1}: the terminal shows {shown[i]!r} below the text")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
