#!/usr/bin/python3
"""pty-answer.py PROMPT ANSWER CMD [ARG...]: run CMD on a new pseudo-
terminal (its controlling terminal, so /dev/tty is the pty), type ANSWER
and a newline the first time PROMPT appears, print all it wrote and exit
with its exit status.  Bounded: 60 s, then the command is killed."""
import os
import pty
import select
import signal
import sys
import time

prompt, answer = sys.argv[1].encode(), sys.argv[2].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[3], sys.argv[3:])
out, answered, deadline = b"", False, time.time() + 60
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 1)
    if not r:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:          # EIO: the command closed the terminal
        break
    if not data:
        break
    out += data
    if not answered and prompt in out:
        os.write(fd, answer + b"\n")
        answered = True
else:
    os.kill(pid, signal.SIGKILL)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
sys.exit(os.waitstatus_to_exitcode(status))
