#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
"""Drives QEMU over QMP for the vhost-user-blk test and demo.

  qmp.py hotplug QMP_SOCK CONSOLE BACKEND_LOG IMAGE
      waits for the guest's I/O loop, adds 128 MiB of memfd memory as a
      pc-dimm, waits for ADD_MEM_REG and the guest onlining it, removes
      it, waits for REM_MEM_REG, then writes STOP into sector 1 of IMAGE.
  qmp.py migrate QMP_SOCK CONSOLE FILE
      waits for the guest's read loop, migrates to exec:cat > FILE, waits
      for completion and quits the source.
  qmp.py stop IMAGE CONSOLE
      waits for the destination guest's loop to go on, then writes STOP.

Every wait has a timeout; each step prints one '# ' line. Exit 0 when
every step happened."""
import json
import os
import socket
import sys
import time


class Qmp:
    def __init__(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.s.settimeout(60)
        self.f = self.s.makefile("rw")
        json.loads(self.f.readline())  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError("%s: %s" % (name, r["error"].get("desc")))
            # an event: ignore


def log(msg):
    print("# " + msg, flush=True)


def wait_for(path, text, timeout, count=1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path, "rb") as f:
                if f.read().decode("latin-1").count(text) >= count:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    log("timed out after %d s waiting for %r in %s" % (timeout, text, os.path.basename(path)))
    return False


def write_stop(image):
    with open(image, "r+b") as f:
        f.seek(512)
        f.write(b"STOP")


def rounds(console):
    with open(console, "rb") as f:
        return f.read().count(b"VMMEM round ")


def hotplug(qmp_sock, console, backend_log, image):
    ok = True
    if not wait_for(console, "VMMEM round 2 ", 120):
        return False
    q = Qmp(qmp_sock)
    t = time.time()
    q.cmd("object-add", **{"qom-type": "memory-backend-memfd", "id": "m1",
                           "size": 128 << 20, "share": True})
    q.cmd("device_add", driver="pc-dimm", id="d1", memdev="m1")
    log("hotplug: object-add memory-backend-memfd (128 MiB, share) + device_add pc-dimm")
    if wait_for(backend_log, "after ADD_MEM_REG", 60, count=3):
        log("hotplug: backend got ADD_MEM_REG after %.1f s" % (time.time() - t))
    else:
        ok = False
    if wait_for(console, "VMMEM onlined", 60):
        log("hotplug: guest onlined the new memory")
    else:
        ok = False
    base = rounds(console)
    deadline = time.time() + 60
    while rounds(console) < base + 5 and time.time() < deadline:
        time.sleep(0.2)
    q.cmd("device_del", id="d1")
    log("hotplug: device_del after %d more guest I/O rounds" % (rounds(console) - base))
    t = time.time()
    if wait_for(backend_log, "after REM_MEM_REG", 60):
        log("hotplug: backend got REM_MEM_REG after %.1f s" % (time.time() - t))
    else:
        ok = False
    base = rounds(console)
    deadline = time.time() + 60
    while rounds(console) < base + 3 and time.time() < deadline:
        time.sleep(0.2)
    write_stop(image)
    return ok


def migrate(qmp_sock, console, path):
    if not wait_for(console, "VMMEM round 1 ", 120):
        return False
    q = Qmp(qmp_sock)
    t = time.time()
    q.cmd("migrate", uri="exec:cat > %s" % path)
    deadline = time.time() + 120
    while time.time() < deadline:
        st = q.cmd("query-migrate")
        status = st.get("status")
        if status in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.3)
    log("migrate: %s after %.1f s (%s bytes, %s dirty-sync rounds), source guest at round %d" % (
        status, time.time() - t, st.get("ram", {}).get("transferred"),
        st.get("ram", {}).get("dirty-sync-count"), rounds(console)))
    if status != "completed":
        log("migrate: %s" % st.get("error-desc", ""))
    try:
        q.cmd("quit")
    except (OSError, ValueError, json.JSONDecodeError):
        pass
    return status == "completed"


def stop_after(image, console, n):
    ok = wait_for(console, "VMMEM round", 120)
    base = rounds(console)
    deadline = time.time() + 60
    while rounds(console) < base + n and time.time() < deadline:
        time.sleep(0.2)
    log("destination guest did %d read rounds after resuming" % (rounds(console) - base))
    write_stop(image)
    return ok and rounds(console) > base


def main(argv):
    try:
        if argv[1] == "hotplug":
            ok = hotplug(*argv[2:6])
        elif argv[1] == "migrate":
            ok = migrate(*argv[2:5])
        elif argv[1] == "stop":
            ok = stop_after(argv[2], argv[3], 3)
        else:
            print(__doc__)
            return 2
    except (OSError, RuntimeError, ValueError) as e:
        log("%s: %s" % (argv[1], e))
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
