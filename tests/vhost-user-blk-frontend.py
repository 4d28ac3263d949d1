#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
"""A hostile vhost-user frontend for vmmem-vhost-user-blk, printing TAP.

Usage: vhost-user-blk-frontend.py BACKEND WORKDIR

It shares 1 MiB of memfd "guest memory", sets up one split virtqueue and
submits requests a real driver would not: data outside memory, sectors
past the end, descriptor loops, chains through bad indices, nested and
unbacked indirect tables, an avail index far ahead. Each must end in
IOERR (the queue goes on) or in the queue stopping with a message naming
the cause, never in a crash or a hang; the backend keeps answering and
exits 0 when the socket closes. Also: SET_LOG_BASE's reply, that IN
data and used-ring writes land in the dirty log under LOG_ALL, that the
SET_LOG_FD eventfd is signalled then, and the features and config a
driver reads (SEG_MAX). And a session with VIRTIO_F_ACCESS_PLATFORM, where
this frontend plays the vIOMMU: it answers the backend's IOTLB misses
(backend request channel) with IOTLB_MSG updates, invalidates, denies and
leaves a miss unanswered."""
import mmap
import os
import select
import socket
import struct
import subprocess
import sys
import time

MEM = 1 << 20
UVA = 0x7F0000000000  # our pretend frontend address of guest 0
NUM = 16
DESC, AVAIL, USED = 0x1000, 0x2000, 0x3000
HDR, DATA, STATUS, ITAB = 0x10000, 0x20000, 0x30000, 0x40000
IMAGE_SECTORS = 2048

F_VERSION_1, F_INDIRECT, F_PROTOCOL, F_LOG_ALL = 1 << 32, 1 << 28, 1 << 30, 1 << 26
F_SIZE_MAX, F_SEG_MAX = 1 << 1, 1 << 2
F_ACCESS_PLATFORM = 1 << 33
P_LOG_SHMFD, P_REPLY_ACK, P_CONFIG, P_MEM_SLOTS = 1 << 1, 1 << 3, 1 << 9, 1 << 15
P_BACKEND_REQ = 1 << 5
IOVA = 0x5_0000_0000  # IOVA = IOVA + guest address, in the IOMMU session
NEXT, WRITE, INDIRECT = 1, 2, 4

n = 0
failed = 0


def tap(ok, desc):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc), flush=True)
    if not ok:
        failed = 1


class Frontend:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        deadline = time.time() + 10
        while True:
            try:
                self.s.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.s.settimeout(10)

    def send(self, req, payload=b"", fds=(), need_reply=False):
        hdr = struct.pack("<III", req, 1 | (8 if need_reply else 0), len(payload))
        if fds:
            socket.send_fds(self.s, [hdr + payload], list(fds))
        else:
            self.s.sendall(hdr + payload)
        if need_reply:
            return self.reply(req)

    def reply(self, req):
        hdr = self.recv(12)
        r, flags, size = struct.unpack("<III", hdr)
        assert r == req and flags == 5, "reply to %d: request %d flags 0x%x" % (req, r, flags)
        return self.recv(size)

    def recv(self, k):
        b = b""
        while len(b) < k:
            c = self.s.recv(k - len(b))
            if not c:
                raise EOFError("backend closed the socket")
            b += c
        return b

    def u64(self, req, v=None, need_reply=False):
        return self.send(req, struct.pack("<Q", v) if v is not None else b"", need_reply=need_reply)


def efd():
    return os.eventfd(0, os.EFD_NONBLOCK)


class Ring:
    def __init__(self, fe, mem):
        self.fe, self.m = fe, mem
        self.avail_idx = 0
        self.used_seen = 0
        self.call = efd()
        self.kick = None

    def setup(self, base=0, iova=None):
        fe = self.fe
        at = UVA if iova is None else iova
        self.m[DESC:USED + 0x1000] = bytes(USED + 0x1000 - DESC)
        self.m[AVAIL + 2:AVAIL + 4] = struct.pack("<H", base)
        self.m[USED + 2:USED + 4] = struct.pack("<H", base)
        fe.send(8, struct.pack("<II", 0, NUM))                       # SET_VRING_NUM
        fe.send(10, struct.pack("<II", 0, base))                     # SET_VRING_BASE
        fe.send(9, struct.pack("<IIQQQQ", 0, 1, at + DESC, at + USED, at + AVAIL, USED))
        fe.send(13, struct.pack("<Q", 0), [self.call])               # SET_VRING_CALL
        if self.kick is not None:
            os.close(self.kick)
        self.kick = efd()
        fe.send(12, struct.pack("<Q", 0), [self.kick])               # SET_VRING_KICK
        fe.send(18, struct.pack("<II", 0, 1), need_reply=True)       # SET_VRING_ENABLE
        self.avail_idx = self.used_seen = base

    def restart(self):
        """GET_VRING_BASE stops the ring; then set it up again."""
        self.fe.send(11, struct.pack("<II", 0, 0))
        idx, base = struct.unpack("<II", self.fe.reply(11))
        self.setup(self.avail_idx)
        return base

    def desc(self, i, addr, length, flags, nxt=0, table=DESC):
        self.m[table + 16 * i:table + 16 * i + 16] = struct.pack("<QIHH", addr, length, flags, nxt)

    def submit(self, head, avail_idx=None):
        slot = AVAIL + 4 + 2 * (self.avail_idx % NUM)
        self.m[slot:slot + 2] = struct.pack("<H", head)
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF if avail_idx is None else avail_idx
        self.m[AVAIL + 2:AVAIL + 4] = struct.pack("<H", self.avail_idx)
        os.eventfd_write(self.kick, 1)

    def used(self, timeout=3.0):
        """The next used element (id, len), or None when none comes."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            idx = struct.unpack("<H", self.m[USED + 2:USED + 4])[0]
            if idx != self.used_seen:
                off = USED + 4 + 8 * (self.used_seen % NUM)
                self.used_seen = (self.used_seen + 1) & 0xFFFF
                return struct.unpack("<II", self.m[off:off + 8])
            select.select([self.call], [], [], 0.05)
        return None


def blk_req(r, typ, sector, data_addr, data_len, data_flags=WRITE, base=0, wait=True):
    r.m[HDR:HDR + 16] = struct.pack("<IIQ", typ, 0, sector)
    r.m[STATUS] = 0xFF
    r.desc(0, base + HDR, 16, NEXT, 1)
    r.desc(1, data_addr, data_len, data_flags | NEXT, 2)
    r.desc(2, base + STATUS, 1, WRITE)
    r.submit(0)
    return r.used() if wait else None


def log_has(text, path, timeout=3.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path) as f:
            if text in f.read():
                return True
        time.sleep(0.05)
    return False


def main(backend, work):
    image = os.path.join(work, "hostile.img")
    pattern = bytes((i * 7 + (i >> 9)) & 0xFF for i in range(IMAGE_SECTORS * 512))
    with open(image, "wb") as f:
        f.write(pattern)
    sock = os.path.join(work, "hostile.sock")
    blog = os.path.join(work, "hostile-backend.log")
    logf = open(blog, "w")
    p = subprocess.Popen([backend, "--socket", sock, "--image", image, "--once"],
                         stdout=logf, stderr=subprocess.STDOUT)
    print("1..35", flush=True)
    try:
        run(p, sock, blog, pattern)
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
    with open(blog) as f:
        for line in f:
            print("# backend: " + line.rstrip())
    reconnect_and_sigint(backend, image, work)
    socket_path_not_a_socket(backend, image, work)
    iommu_session(backend, image, work, pattern)
    return failed


def socket_path_not_a_socket(backend, image, work):
    """--socket naming a file that is not a socket is refused, and the
    file is left alone (the backend used to unlink any path)."""
    path = os.path.join(work, "not-a-socket")
    with open(path, "w") as f:
        f.write("keep me")
    r = subprocess.run([backend, "--socket", path, "--image", image],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=20)
    with open(path) as f:
        kept = f.read() == "keep me"
    tap(r.returncode == 1 and kept and b"is not a socket" in r.stderr,
        "--socket naming a regular file is refused and the file is kept")


class Iommu:
    """The frontend's vIOMMU: maps guest pages at IOVA + gpa, answers the
    backend's misses (or not), counts what it saw."""

    def __init__(self, fe, chan, perm=None):
        self.fe, self.chan = fe, chan
        self.perm = perm or {}     # page gpa -> perm; missing: RW
        self.unmapped = set()      # page gpas that get no answer
        self.misses = []           # (iova, perm) as received

    def msg(self, typ, iova, size, uaddr=0, perm=0):
        body = struct.pack("<QQQBB6x", iova, size, uaddr, perm, typ)
        return struct.unpack("<Q", self.fe.send(22, body, need_reply=True))[0]

    def serve(self, r, timeout=3.0):
        """Answers misses until a used element comes; (used, acks)."""
        deadline = time.time() + timeout
        acks = []
        while time.time() < deadline:
            idx = struct.unpack("<H", r.m[USED + 2:USED + 4])[0]
            if idx != r.used_seen:
                return r.used(0.1), acks
            rd, _, _ = select.select([self.chan], [], [], 0.05)
            if not rd:
                continue
            hdr = self.chan.recv(12, socket.MSG_WAITALL)
            req, flags, size = struct.unpack("<III", hdr)
            body = self.chan.recv(size, socket.MSG_WAITALL)
            iova, _, _, perm, typ = struct.unpack("<QQQBB", body[:26])
            self.misses.append((iova, perm, req, flags, size, typ))
            page = (iova - IOVA) & ~0xFFF
            if page in self.unmapped or not 0 <= page < MEM:
                continue
            acks.append(self.msg(2, IOVA + page, 0x1000, UVA + page, self.perm.get(page, 3)))
        return None, acks


def iommu_session(backend, image, work, pattern):
    """VIRTIO_F_ACCESS_PLATFORM: rings and buffers by IOVA only."""
    sock = os.path.join(work, "iommu.sock")
    blog = os.path.join(work, "iommu-backend.log")
    logf = open(blog, "w")
    p = subprocess.Popen([backend, "--socket", sock, "--image", image, "--once", "-v"],
                         stdout=logf, stderr=subprocess.STDOUT)
    try:
        fd = os.memfd_create("guest", os.MFD_CLOEXEC)
        os.ftruncate(fd, MEM)
        m = mmap.mmap(fd, MEM)
        fe = Frontend(sock)
        fe.send(1)
        feats = struct.unpack("<Q", fe.reply(1))[0]
        fe.u64(15)
        pfeats = struct.unpack("<Q", fe.reply(15))[0]
        fe.u64(16, P_REPLY_ACK | P_MEM_SLOTS | P_BACKEND_REQ)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        ack = fe.send(21, b"", [theirs.fileno()], need_reply=True)
        theirs.close()
        tap(feats & F_ACCESS_PLATFORM and pfeats & P_BACKEND_REQ and pfeats & P_REPLY_ACK and
            struct.unpack("<Q", ack)[0] == 0,
            "IOMMU: ACCESS_PLATFORM, BACKEND_REQ and REPLY_ACK offered; SET_BACKEND_REQ_FD acked")
        fe.send(3)
        fe.u64(2, F_VERSION_1 | F_INDIRECT | F_PROTOCOL | F_ACCESS_PLATFORM)
        fe.send(37, struct.pack("<QQQQQ", 0, 0, MEM, UVA, 0), [fd], need_reply=True)
        mmu = Iommu(fe, ours)
        r = Ring(fe, m)
        r.setup(iova=IOVA)

        u = blk_req(r, 0, 8, IOVA + DATA, 8192, base=IOVA, wait=False)
        u, acks = mmu.serve(r)
        pages = sorted({(i - IOVA) & ~0xFFF for i, *_ in mmu.misses})
        want = sorted({DESC, AVAIL, USED, HDR, STATUS, DATA, DATA + 0x1000})
        form = all(req == 1 and flags == 1 and size == 32 and typ == 1
                   for _, _, req, flags, size, typ in mmu.misses)
        print("# misses: %s" % ", ".join("0x%x perm %d" % (i, pm) for i, pm, *_ in mmu.misses))
        tap(u == (0, 8193) and m[STATUS] == 0 and m[DATA:DATA + 8192] == pattern[4096:12288] and
            pages == want and form and acks and not any(acks),
            "IOMMU: an IN of 8 KiB by IOVA: one miss per page of ring, header, data and status, "
            "each IOTLB_MSG update acked 0, the image's bytes (%d misses)" % len(mmu.misses))
        # QEMU asks its IOMMU for write access unless perm is RO (1).
        writes = {(i - IOVA) & ~0xFFF for i, pm, *_ in mmu.misses if pm in (2, 3)}
        tap({DATA, DATA + 0x1000, STATUS, USED} <= writes and HDR not in writes and DESC not in writes,
            "IOMMU: misses ask for write access where the device writes (data, status, used), "
            "read elsewhere")

        # Invalidation takes effect before its ack: the next access misses.
        mmu.misses = []
        inv = mmu.msg(3, IOVA + DATA, 0x2000)
        m[DATA:DATA + 8192] = bytes(8192)
        blk_req(r, 0, 8, IOVA + DATA, 8192, base=IOVA, wait=False)
        u, _ = mmu.serve(r)
        again = sorted({(i - IOVA) & ~0xFFF for i, *_ in mmu.misses})
        tap(inv == 0 and u == (0, 8193) and again == [DATA, DATA + 0x1000] and
            m[DATA:DATA + 8192] == pattern[4096:12288],
            "IOMMU: after an acked invalidation of the data pages only they miss again")

        # A read-only mapping for a buffer the device writes: denied, IOERR.
        mmu.misses = []
        mmu.perm[DATA + 0x4000] = 1
        blk_req(r, 0, 8, IOVA + DATA + 0x4000, 4096, base=IOVA, wait=False)
        u, _ = mmu.serve(r)
        asked = [(i - IOVA) & ~0xFFF for i, *_ in mmu.misses]
        tap(u == (0, 1) and m[STATUS] == 1 and log_has("denies a write", blog, 1.0) and
            asked == [DATA + 0x4000] and p.poll() is None,
            "IOMMU: IN into a page the IOMMU maps read-only: one miss, then IOERR naming the "
            "denial (no second ask), queue goes on")

        # A miss nobody answers: the queue waits 2 s, then IOERR.
        mmu.misses = []
        mmu.unmapped.add(DATA + 0x8000)
        t0 = time.time()
        blk_req(r, 0, 8, IOVA + DATA + 0x8000, 4096, base=IOVA, wait=False)
        u, _ = mmu.serve(r, 6.0)
        took = time.time() - t0
        tap(u == (0, 1) and m[STATUS] == 1 and 1.5 < took < 5 and
            log_has("no IOTLB update for IOVA 0x%x" % (IOVA + DATA + 0x8000), blog, 1.0),
            "IOMMU: a miss the frontend never answers: IOERR after %.1f s, the wait named" % took)
        u = blk_req(r, 0, 8, IOVA + DATA, 4096, base=IOVA, wait=False)
        u, _ = mmu.serve(r)
        tap(u == (0, 4097) and m[STATUS] == 0, "IOMMU: the queue serves the next request")
        # An IOVA range that passes 2^64 is refused (and the session ends).
        bad = mmu.msg(2, 0xFFFF_FFFF_FFFF_F000, 0x2000, UVA, 3)
        tap(bad != 0, "IOMMU: an update whose IOVA range passes 2^64 is refused (ack %d)" % bad)
        fe.s.close()
        rc = p.wait(10)
        with open(blog) as f:
            summary = [l for l in f if "IOTLB:" in l or "stopped" in l]
        print("".join("# backend: " + l for l in summary), end="")
        tap(rc == 0 and any("waits timed out" in l for l in summary),
            "IOMMU: the backend exits 0 and reports its IOTLB traffic (rc %s)" % rc)
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()


def reconnect_and_sigint(backend, image, work):
    """Without --once: a second connection gets a fresh session (the
    same region can be added again), and SIGINT mid-session exits 0."""
    sock = os.path.join(work, "again.sock")
    p = subprocess.Popen([backend, "--socket", sock, "--image", image],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        fd = os.memfd_create("guest", os.MFD_CLOEXEC)
        os.ftruncate(fd, MEM)
        region = struct.pack("<QQQQQ", 0, 0, MEM, UVA, 0)
        fe = Frontend(sock)
        fe.u64(16, P_REPLY_ACK | P_MEM_SLOTS)
        nack = struct.unpack("<Q", fe.send(7, b"", need_reply=True))[0]
        try:
            closed = fe.s.recv(1) == b""
        except OSError:
            closed = False
        tap(nack == 1 and closed,
            "SET_LOG_FD without an fd: refused (ack %d), the session ends" % nack)
        fe.s.close()
        acks = []
        for _ in range(2):
            fe = Frontend(sock)
            fe.u64(16, P_REPLY_ACK | P_MEM_SLOTS)
            acks.append(struct.unpack("<Q", fe.send(37, region, [fd], need_reply=True))[0])
            if len(acks) == 1:
                fe.s.close()
        tap(acks == [0, 0], "a reconnecting frontend gets a fresh session (acks %s)" % acks)
        p.send_signal(2)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        tap(rc == 0 and not os.path.exists(sock),
            "SIGINT during a session: exit 0, socket removed (rc %s)" % rc)
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()


def run(p, sock, blog, pattern):
    fd = os.memfd_create("guest", os.MFD_CLOEXEC)
    os.ftruncate(fd, MEM)
    m = mmap.mmap(fd, MEM)
    fe = Frontend(sock)
    fe.send(1)
    feats = struct.unpack("<Q", fe.reply(1))[0]
    fe.u64(15)
    pfeats = struct.unpack("<Q", fe.reply(15))[0]
    tap(feats & F_INDIRECT and feats & F_LOG_ALL and pfeats & P_LOG_SHMFD and pfeats & P_MEM_SLOTS
        and pfeats & P_REPLY_ACK and pfeats & P_CONFIG,
        "GET_FEATURES / GET_PROTOCOL_FEATURES offer indirect, LOG_ALL, LOG_SHMFD, "
        "CONFIGURE_MEM_SLOTS, REPLY_ACK, CONFIG")
    fe.u64(16, P_LOG_SHMFD | P_REPLY_ACK | P_CONFIG | P_MEM_SLOTS)
    fe.send(3)  # SET_OWNER
    fe.u64(2, F_VERSION_1 | F_INDIRECT | F_PROTOCOL)
    ack = fe.send(37, struct.pack("<QQQQQ", 0, 0, MEM, UVA, 0), [fd], need_reply=True)
    tap(struct.unpack("<Q", ack)[0] == 0, "ADD_MEM_REG of 1 MiB with NEED_REPLY: ack 0")
    fe.send(24, struct.pack("<III", 0, 60, 0) + bytes(60))
    cfg = fe.reply(24)
    tap(len(cfg) == 72 and struct.unpack("<Q", cfg[12:20])[0] == IMAGE_SECTORS and
        struct.unpack("<I", cfg[32:36])[0] == 512,
        "GET_CONFIG: capacity %d sectors, blk_size 512" % IMAGE_SECTORS)
    # seg_max is only read by a driver that negotiated SEG_MAX (bit 2);
    # SIZE_MAX (bit 1) would make size_max, 0 here, the segment limit.
    tap(feats & F_SEG_MAX and not feats & F_SIZE_MAX and
        struct.unpack("<I", cfg[24:28])[0] == 126,
        "GET_FEATURES offers SEG_MAX (bit 2), not SIZE_MAX; GET_CONFIG: seg_max 126")

    r = Ring(fe, m)
    r.setup()
    u = blk_req(r, 0, 8, DATA, 4096)
    tap(u == (0, 4097) and m[STATUS] == 0 and m[DATA:DATA + 4096] == pattern[4096:8192],
        "IN of 4 KiB at sector 8: status OK, used len 4097, the image's bytes")
    u = blk_req(r, 0, 0, 0x10_0000_0000, 4096)
    tap(u == (0, 1) and m[STATUS] == 1, "IN into an address outside guest memory: IOERR, queue goes on")
    u = blk_req(r, 0, 0, MEM - 512, 4096)
    tap(u == (0, 1) and m[STATUS] == 1, "IN running past the end of guest memory: IOERR")
    u = blk_req(r, 1, 1 << 62, DATA, 4096, 0)
    tap(u is not None and m[STATUS] == 1, "OUT at sector 2^62 (offset overflows): IOERR")
    u = blk_req(r, 0, IMAGE_SECTORS - 1, DATA, 4096)
    tap(u is not None and m[STATUS] == 1, "IN past the end of the image: IOERR")
    u = blk_req(r, 8, 0, DATA, 20)
    tap(u == (0, 21) and m[STATUS] == 0 and m[DATA:DATA + 9] == b"vmmem-blk", "GET_ID: the serial")
    u = blk_req(r, 99, 0, DATA, 512)
    tap(u is not None and m[STATUS] == 2, "an unknown request type: UNSUPP")

    # Indirect: header, data and status in a table.
    r.desc(0, HDR, 16, NEXT, 1, ITAB)
    r.desc(1, DATA, 512, WRITE | NEXT, 2, ITAB)
    r.desc(2, STATUS, 1, WRITE, 0, ITAB)
    m[HDR:HDR + 16] = struct.pack("<IIQ", 0, 0, 1)
    r.desc(0, ITAB, 48, INDIRECT)
    r.submit(0)
    u = r.used()
    tap(u == (0, 513) and m[STATUS] == 0 and m[DATA:DATA + 512] == pattern[512:1024],
        "IN through an indirect table")

    # Dirty logging: SET_LOG_BASE, its reply, then LOG_ALL.
    lfd = os.memfd_create("log", os.MFD_CLOEXEC)
    os.ftruncate(lfd, 4096)
    lm = mmap.mmap(lfd, 4096)
    fe.send(6, struct.pack("<QQ", 4096, 0), [lfd])
    try:
        fe.reply(6)
        tap(True, "SET_LOG_BASE: one reply, request 6 flags 0x5")
    except (AssertionError, EOFError, OSError) as e:
        tap(False, "SET_LOG_BASE reply: %s" % e)
    log_call = efd()
    ack = fe.send(7, b"", [log_call], need_reply=True)
    fe.send(2, struct.pack("<Q", F_VERSION_1 | F_INDIRECT | F_PROTOCOL | F_LOG_ALL), need_reply=True)
    u = blk_req(r, 0, 0, DATA + 0x3000, 4096)
    page = lambda gpa: lm[(gpa >> 12) // 8] >> ((gpa >> 12) % 8) & 1
    tap(u == (0, 4097) and page(DATA + 0x3000) and page(STATUS) and page(USED),
        "under LOG_ALL an IN logs its data page, the status byte and the used ring")

    def signalled(fd, wait):
        select.select([fd], [], [], wait)
        try:
            return os.eventfd_read(fd)
        except BlockingIOError:
            return 0
    got = signalled(log_call, 3)
    fe.send(2, struct.pack("<Q", F_VERSION_1 | F_INDIRECT | F_PROTOCOL), need_reply=True)
    signalled(log_call, 0)
    blk_req(r, 0, 0, DATA, 512)
    fe.send(17)  # GET_QUEUE_NUM: its reply comes after the pass that served the IN
    fe.reply(17)
    after = signalled(log_call, 0)
    tap(struct.unpack("<Q", ack)[0] == 0 and got >= 1 and after == 0,
        "SET_LOG_FD: the eventfd is signalled after a logged request (%d), not once logging "
        "is off (%d)" % (got, after))

    # Each of these stops the queue; restart it after each.
    def stops(setup, desc, cause):
        setup()
        u = r.used(1.0)
        ok = u is None and log_has(cause, blog)
        tap(ok and p.poll() is None, desc)
        r.restart()

    def loop():
        m[HDR:HDR + 16] = struct.pack("<IIQ", 0, 0, 0)
        r.desc(0, HDR, 16, NEXT, 1)
        r.desc(1, DATA, 512, WRITE | NEXT, 0)
        r.submit(0)
    stops(loop, "a descriptor loop stops the queue, naming the loop", "descriptor loop")

    def bad_next():
        r.desc(0, HDR, 16, NEXT, 200)
        r.submit(0)
    stops(bad_next, "a next index past the table stops the queue, naming it", "next index 200")

    def nested():
        r.desc(0, ITAB + 0x100, 16, INDIRECT, 0, ITAB)
        r.desc(0, ITAB, 16, INDIRECT)
        r.submit(0)
    stops(nested, "a nested indirect table stops the queue", "nested")

    def unbacked():
        r.desc(0, 0xFFFF_FFFF_FFFF_F000, 0x2000, INDIRECT)
        r.submit(0)
    stops(unbacked, "an indirect table outside guest memory (wrapping 2^64) stops the queue",
          "outside guest memory")

    def jump():
        r.desc(0, HDR, 16, 0)
        r.submit(0, avail_idx=(r.avail_idx + 1000) & 0xFFFF)
    stops(jump, "an avail index 1000 ahead of a 16-entry queue stops it", "is 1000 entries past")
    r.avail_idx = r.used_seen  # what the restart told the backend

    u = blk_req(r, 0, 8, DATA, 4096)
    tap(u is not None and m[STATUS] == 0, "after GET_VRING_BASE and a fresh setup the queue serves again")

    fe.s.close()
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    tap(rc == 0, "the backend exits 0 when the frontend closes the socket (rc %s)" % rc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
