"""What both benchmark targets (bench_target.py, report_target.py) need to
tell the benchmark about themselves: their resident size and state files
that appear whole or not at all."""

import os

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)
