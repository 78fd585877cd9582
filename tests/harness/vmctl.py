#!/usr/bin/env python3
"""vmctl.py - the small QMP and guest-agent client tests/harness/v2vm.sh drives its guest with.

    vmctl.py qmp SOCK COMMAND [JSON-ARGS]   one QMP command; prints its "return" as JSON
    vmctl.py ping SOCK [--wait SECS]        succeeds once the guest agent answers
    vmctl.py set-time SOCK                  sets the guest's clock from the host's
    vmctl.py exec SOCK [--timeout SECS] [--env K=V]... -- CMD [ARG...]
                                            runs CMD in the guest (argv, no shell); copies its
                                            stdout and stderr out; exits with its status
                                            (128+N when a signal N ended it)

Python's standard library only: it runs on the bare CI host before anything is installed.
Errors go to stderr with exit status 125, so they are not mistaken for a command's status.
"""

import base64
import json
import random
import socket
import sys
import time


class Failure(Exception):
    """Anything that keeps the client from doing what it was asked."""


class Channel:
    """A line-oriented JSON connection to a QMP or guest-agent socket."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as e:
            self.sock.close()
            raise Failure(f"cannot connect to {path}: {e}") from e
        self.file = self.sock.makefile("rwb", buffering=0)

    def close(self):
        self.file.close()
        self.sock.close()

    def read(self):
        while True:
            line = self.file.readline()
            if not line:
                raise Failure("the socket closed")
            # The guest agent's sync answer starts with 0xff to resynchronise the stream.
            line = line.lstrip(b"\xff").strip()
            if line:
                return json.loads(line)

    def call(self, command, **arguments):
        request = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self.file.write(json.dumps(request).encode() + b"\n")
        while True:
            reply = self.read()
            if "error" in reply:
                raise Failure(f"{command}: {reply['error'].get('desc', reply['error'])}")
            if "return" in reply:
                return reply["return"]
            # QMP events ("event") arrive between replies: skip them.


def qmp(sock, command, args="{}"):
    chan = Channel(sock, 60)
    try:
        chan.read()  # the greeting
        chan.call("qmp_capabilities")
        print(json.dumps(chan.call(command, **json.loads(args))))
    finally:
        chan.close()
    return 0


def agent(sock, wait):
    """A guest-agent connection that has answered a sync, retried for `wait` seconds: the
    agent's port exists before the guest's agent listens on it."""
    deadline = time.monotonic() + wait
    while True:
        chan = None
        try:
            chan = Channel(sock, 5)
            token = random.randint(1, 2**31)
            if chan.call("guest-sync-delimited", id=token) != token:
                raise Failure("guest-sync-delimited answered another token")
            return chan
        except (Failure, OSError, ValueError) as e:
            if chan is not None:
                chan.close()
            if time.monotonic() > deadline:
                raise Failure(f"the guest agent did not answer within {wait:g}s: {e}") from e
            time.sleep(0.3)


def call_agent(sock, command, **arguments):
    """One guest-agent call on a connection of its own (waiting up to 60 s for the port)."""
    chan = agent(sock, 60)
    try:
        return chan.call(command, **arguments)
    finally:
        chan.close()


def options(argv, known):
    """Leading --name VALUE options (repeatable ones collect lists), then `--`, then the rest."""
    found = {k: ([] if multi else default) for k, (default, multi) in known.items()}
    while argv and argv[0] != "--":
        name = argv.pop(0).lstrip("-")
        if name not in known or not argv:
            raise Failure(f"unknown option or missing value: --{name}")
        if known[name][1]:
            found[name].append(argv.pop(0))
        else:
            found[name] = argv.pop(0)
    return found, argv[1:]


def ping(sock, argv):
    opts, _ = options(argv + ["--"], {"wait": ("0", False)})
    agent(sock, float(opts["wait"])).close()
    return 0


def set_time(sock):
    chan = agent(sock, 5)
    try:
        chan.call("guest-set-time", time=time.time_ns())
    except Failure as e:
        # The agent sets the clock, then runs hwclock to store it in the RTC; a minimal
        # guest has no hwclock, and the clock is set all the same.
        if "hwclock" not in str(e):
            raise
    finally:
        chan.close()
    return 0


def execute(sock, argv):
    opts, cmd = options(argv, {"timeout": ("600", False), "env": (None, True)})
    if not cmd:
        raise Failure("exec needs a command after --")
    timeout = float(opts["timeout"])
    args = {"path": cmd[0], "arg": cmd[1:], "capture-output": True}
    if opts["env"]:
        args["env"] = opts["env"]
    # The agent's port takes one client at a time: connect for each call, so that other
    # commands (a look at the guest while a long test runs) get their turn.
    pid = call_agent(sock, "guest-exec", **args)["pid"]
    deadline, pause = time.monotonic() + timeout, 0.005
    while True:
        status = call_agent(sock, "guest-exec-status", pid=pid)
        if status.get("exited"):
            break
        if time.monotonic() > deadline:
            raise Failure(f"{cmd[0]} did not end within {timeout:g}s")
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
    sys.stdout.buffer.write(base64.b64decode(status.get("out-data", "")))
    sys.stdout.flush()
    sys.stderr.buffer.write(base64.b64decode(status.get("err-data", "")))
    if status.get("out-truncated") or status.get("err-truncated"):
        sys.stderr.write("vmctl: the guest agent truncated the output\n")
    if "exitcode" in status:
        return status["exitcode"]
    return 128 + status.get("signal", 0)


def main(argv):
    if len(argv) < 2:
        raise Failure(__doc__)
    verb, sock, rest = argv[0], argv[1], argv[2:]
    if verb == "qmp" and rest:
        return qmp(sock, *rest)
    if verb == "ping":
        return ping(sock, rest)
    if verb == "set-time":
        return set_time(sock)
    if verb == "exec":
        return execute(sock, rest)
    raise Failure(__doc__)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (Failure, OSError, ValueError) as e:
        sys.stderr.write(f"vmctl: {e}\n")
        sys.exit(125)
