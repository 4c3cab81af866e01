#!/usr/bin/python3
"""bench/RESULTS.md is a set of sections, one per benchmark, each from its
"## " heading to the next. put_section() replaces the section with the same
heading (the first line of the new text), or appends it, and keeps one blank
line between sections. Every benchmark writes through it: the Python ones
import it, the shell ones pipe their section to it.

  printf '%s\\n' "$section" | /usr/bin/python3 bench/results.py [--results FILE]
"""
import argparse
import os
import re
import sys

DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
TITLE = "# Benchmark results\n\nWritten by the scripts in bench/.\n"


def put_section(section, path=DEFAULT):
    section = section.strip("\n") + "\n"
    heading = section.split("\n", 1)[0]
    if not heading.startswith("## "):
        raise ValueError(f"a section starts with a '## ' heading, not {heading!r}")
    text = open(path).read() if os.path.exists(path) else TITLE
    pat = re.compile(r"^" + re.escape(heading) + r"\n.*?(?=^## |\Z)", re.S | re.M)
    if pat.search(text):
        text = pat.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    text = re.sub(r"([^\n])\n(?=## )", "\\1\n\n", text)   # a blank line before every heading
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Put the section on standard input into bench/RESULTS.md.")
    ap.add_argument("--results", default=DEFAULT)
    put_section(sys.stdin.read(), ap.parse_args().results)
