"""A small web-service look-alike that leaks: every request's session is
kept in a module-level list that nobody ever trims.

usage: leaky.py READY_FILE
Writes READY_FILE once it has leaked for a while, then keeps serving.
"""
import sys
import threading
import time

SESSIONS = []  # the leak: appended to on every request, never pruned


class AcmeSession:
    def __init__(self, user, payload):
        self.user = user
        self.payload = payload
        self.created = time.time()


def handle_request(n):
    session = AcmeSession("user%d" % n, "x" * 512)
    SESSIONS.append(session)        # "cache it for later"
    return len(session.payload)


def worker():
    n = 0
    while True:
        handle_request(n)
        n += 1
        if n % 1000 == 0:
            time.sleep(0.01)


def main():
    for _ in range(2):
        threading.Thread(target=worker, daemon=True).start()
    time.sleep(2)
    with open(sys.argv[1], "w") as f:
        f.write("%d sessions\n" % len(SESSIONS))
    while True:
        time.sleep(1)


main()
