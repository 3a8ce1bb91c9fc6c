"""Send real-time signals to a process until told to stop.

usage: signaller.py PID SIGNUM STOPFILE COUNTFILE

Sends SIGNUM every 1-4 ms until STOPFILE exists, then writes how many it
sent to COUNTFILE.  Real-time signals queue, so the target must receive
exactly that many.
"""
import os
import random
import sys
import time

pid, signum, stop_file, count_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
sent = 0
while not os.path.exists(stop_file):
    os.kill(pid, signum)
    sent += 1
    time.sleep(random.uniform(0.001, 0.004))
with open(count_file, "w") as f:
    f.write(str(sent))
