"""The process whose core fuzz_heap damages (tests/fuzz/make-seeds captures
it): a small heap with one of everything the walk and the graph treat
apart -- lists, dicts, sets, frozensets, tuples, str of every kind, bytes,
bytearray, instances with __dict__ and with __slots__, a generator, a
second thread, cycles (a list holding itself, a ring of instances) and
cyclic garbage.  Prints "ready" once it is all built, then sleeps.
"""
import threading
import time


class Node:
    def __init__(self, name):
        self.name = name
        self.next = None
        self.items = []


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b


def gen():
    yield 1


ring = [Node("n%d" % i) for i in range(8)]
for a, b in zip(ring, ring[1:] + ring[:1]):
    a.next = b
    a.items.append(b)
loop = []
loop.append(loop)
d = {"self": None, 1: 2.5, (1, 2): frozenset({3, 4}), b"k": bytearray(b"xyz")}
d["self"] = d
s = {1, "two", 3.0, (4,)}
strings = ["dup"] * 3 + ["é" * 5, "\U0001f600" * 3, "x" * 300]
big = list(range(200))
slots = Slotted(ring, d)
garbage = [Node("g1"), Node("g2")]
garbage[0].next, garbage[1].next = garbage[1], garbage[0]
garbage = None
g = gen()
ev = threading.Event()
t = threading.Thread(target=ev.wait, name="worker")
t.start()
print("ready", flush=True)
time.sleep(60)
