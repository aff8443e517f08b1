"""test_durability.py - the order of the durable steps, seen with strace.

A crash test cannot see a missing fsync: kill -9 does not drop the page
cache.  So these tests watch the system calls of every daemon while one
message goes through (the instance runs under strace -f) and check their
order, per process:

  smtpd (DESIGN rule 2, qfile.h's commit table): the queue file's fsync,
  then its rename from incoming/ into queue/X/Y/, then the fsync of
  queue/X/Y, and only then the write of "250 ... queued as QID" to the
  client; nothing is written to the file after its fsync.

  local (design.md section 7): the Maildir file's fsync, then its rename
  from tmp/ into new/, then the fsync of new/, and only then the
  LOCAL_RESULT frame (the one naming the queue id) to qmgr.

Remove any of those fsyncs, or send the 250 before the commit, and a test
here fails (tests/mutate does exactly that; doc/testing.md).
"""
import os
import re
import shutil
import time

import harness
from harness import Instance, find_message, make_message, wait_for

ALICE = "alice@example.com"
SYSCALLS = ("fsync,fdatasync,sync_file_range,rename,renameat,renameat2,"
            "write,writev,pwrite64,pwritev,pwritev2,sendto,sendmsg")
WRITES = ("write", "writev", "pwrite64", "pwritev", "pwritev2", "sendto",
          "sendmsg")
SYNCS = ("fsync", "fdatasync")
RENAMES = ("rename", "renameat", "renameat2")

_LINE = re.compile(r"^(\d+) +(\w+)\((.*)\) += (-?\d+|\?)")
_UNFINISHED = re.compile(r"^(\d+) +(.*) <unfinished \.\.\.>$")
_RESUMED = re.compile(r"^(\d+) +<\.\.\. \w+ resumed>(.*)$")
_FD = re.compile(r"^(\d+)<([^>]*)>")
# rename("a", "b") or renameat(FD<dir>, "a", FD<dir>, "b"[, flags])
_RENAME = re.compile(r'^"([^"]*)", "([^"]*)"$')
_RENAMEAT = re.compile(r'^(AT_FDCWD|\d+<[^>]*>), "([^"]*)", '
                       r'(AT_FDCWD|\d+<[^>]*>), "([^"]*)"(, .*)?$')


class Event:
    """One finished system call: pid, name, argument text, result."""

    def __init__(self, pid, name, args, ret):
        self.pid, self.name, self.args, self.ret = pid, name, args, ret

    def fd_path(self):
        """The path of the first argument when it is a descriptor."""
        m = _FD.match(self.args)
        return m.group(2) if m else None

    def rename_paths(self):
        """(from, to) as full paths where strace shows the directory
        descriptors, else as given; None for other calls."""
        if self.name == "rename":
            m = _RENAME.match(self.args)
            return (m.group(1), m.group(2)) if m else None
        m = _RENAMEAT.match(self.args)
        if m is None:
            return None

        def join(dirarg, name):
            d = _FD.match(dirarg)
            return os.path.join(d.group(2), name) if d else name
        return join(m.group(1), m.group(2)), join(m.group(3), m.group(4))

    def __repr__(self):
        return "%d %s(%s) = %s" % (self.pid, self.name, self.args[:160],
                                   self.ret)


def parse_trace(text):
    """strace -f -yy output: per pid, its events in order (an
    <unfinished ...> call is joined with its resumption)."""
    per_pid = {}
    pending = {}
    for line in text.splitlines():
        m = _UNFINISHED.match(line)
        if m:
            pending[int(m.group(1))] = m.group(2)
            continue
        m = _RESUMED.match(line)
        if m:
            pid = int(m.group(1))
            if pid not in pending:
                continue
            line = "%d %s%s" % (pid, pending.pop(pid), m.group(2))
        m = _LINE.match(line)
        if m is None:
            continue
        ret = int(m.group(4)) if m.group(4) != "?" else None
        ev = Event(int(m.group(1)), m.group(2), m.group(3), ret)
        per_pid.setdefault(ev.pid, []).append(ev)
    return per_pid


def strace_running(path):
    """pids of the strace writing to path (found by its command line)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"strace" and \
                path.encode() in argv:
            pids.append(int(d))
    return pids


def first(events, pred, start=0):
    """Index of the first event from start on for which pred is true."""
    for i in range(start, len(events)):
        if pred(events[i]):
            return i
    return None


class DurabilityOrderTest(harness.InstanceTestCase):
    """One instance run under strace -f from its start (-D: strace is a
    detached grandchild and master keeps its pid; no attaching, so no
    CAP_SYS_PTRACE is needed); one message to alice, then the instance
    is stopped and the trace read (shared by the tests)."""

    trace = None

    @classmethod
    def setUpClass(cls):
        if shutil.which("strace") is None:
            raise RuntimeError("strace is not installed (scripts/deps.sh "
                               "test installs it)")
        cls.inst = Instance()
        cls.trace_path = os.path.join(cls.inst.dir, "strace.out")
        cls.inst.wrap = ["strace", "-D", "-f", "--seccomp-bpf", "-yy",
                         "-s", "256", "-o", cls.trace_path,
                         "-e", "trace=" + SYSCALLS]
        try:
            cls.inst.start()
            cls.inst.wait_settled()
        except Exception:
            cls.inst.cleanup()
            raise

    def traced(self):
        """(queue id, Maildir file name, events per pid, program name per
        pid) of the one traced message."""
        cls = type(self)
        if cls.trace is not None:
            return cls.trace
        inst = self.inst
        names = {p["pid"]: p["name"] for p in inst.procs()}
        token = "durable-%x" % int(time.time() * 1000)
        s = inst.smtp()
        s.ehlo("client.example")
        s.mail("sender@client.example")
        s.rcpt(ALICE)
        code, msg = s.data(make_message(token + "@t"))
        s.quit()
        self.assertEqual(code, 250, msg)
        qid = harness.qid_of(msg)
        path = find_message(inst, ALICE, token.encode(), 15)
        self.assertIsNotNone(path, inst.log()[-3000:])
        # local's answer has reached qmgr once qmgr logs the result
        self.assertIsNotNone(inst.wait_log(
            r"%s: to=<%s>.*status=sent" % (qid, re.escape(ALICE)), 10),
            inst.log()[-3000:])
        inst.stop()
        # strace exits with the last process it traces, after its output
        self.assertTrue(wait_for(
            lambda: not strace_running(cls.trace_path), 15),
            "strace still running after the instance stopped")
        cls.trace = (qid, os.path.basename(path),
                     parse_trace(harness.read_text(cls.trace_path)), names)
        return cls.trace

    def order_failure(self, what, events, marks):
        """A message naming the step that is missing or out of order,
        with the events of that process that matter."""
        shown = [e for e in events if e.name in SYNCS + RENAMES or
                 any(m in e.args for m in marks)]
        return "%s; the process's calls:\n%s" % (
            what, "\n".join(repr(e) for e in shown[:60]))

    def test_queue_file_committed_before_250(self):
        qid, _name, per_pid, names = self.traced()
        mark = "queued as " + qid
        pids = [p for p, evs in per_pid.items()
                if any(e.name in WRITES and mark in e.args for e in evs)]
        self.assertEqual(len(pids), 1, "no single process wrote %r" % mark)
        pid = pids[0]
        self.assertEqual(names.get(pid), "smtpd")
        evs = per_pid[pid]

        def fail(what):
            return self.order_failure(what, evs, [qid])
        incoming = "incoming/" + qid

        reply = first(evs, lambda e: e.name in WRITES and mark in e.args)
        ren = first(evs, lambda e: e.name in RENAMES and e.ret == 0 and
                    e.rename_paths() is not None and
                    e.rename_paths()[0].endswith(incoming))
        self.assertIsNotNone(ren, fail("no rename of %s" % incoming))
        dest = evs[ren].rename_paths()[1]
        self.assertTrue(re.search(r"(^|/)queue/[^/]+/[^/]+/%s$" % qid,
                                  dest), fail("renamed to %s" % dest))
        qdir = os.path.dirname(dest)
        sync = first(evs, lambda e: e.name in SYNCS and e.ret == 0 and
                     (e.fd_path() or "").endswith(incoming))
        self.assertIsNotNone(sync, fail("no fsync of %s" % incoming))
        self.assertLess(sync, ren, fail("the file's fsync is not before "
                                        "its rename"))
        late = first(evs, lambda e: e.name in WRITES and
                     (e.fd_path() or "").endswith(incoming), sync + 1)
        self.assertIsNone(late, fail("written after its fsync: %r" %
                                     (evs[late] if late else None)))
        dsync = first(evs, lambda e: e.name in SYNCS and e.ret == 0 and
                      (e.fd_path() or "").endswith("/" + qdir), ren + 1)
        self.assertIsNotNone(dsync, fail("no fsync of %s after the rename"
                                         % qdir))
        self.assertLess(dsync, reply, fail("250 written before the fsync "
                                           "of %s" % qdir))
        self.assertLess(ren, reply, fail("250 written before the rename"))

    def test_maildir_file_synced_before_result(self):
        qid, name, per_pid, names = self.traced()
        tmpf, newf = "Maildir/tmp/" + name, "Maildir/new/" + name

        def renamed(e):
            p = e.rename_paths() if e.name in RENAMES else None
            return e.ret == 0 and p is not None and \
                p[0].endswith(tmpf) and p[1].endswith(newf)
        pids = [p for p, evs in per_pid.items() if any(map(renamed, evs))]
        self.assertEqual(len(pids), 1, "no single process renamed %s to %s"
                         % (tmpf, newf))
        pid = pids[0]
        self.assertEqual(names.get(pid), "local")
        evs = per_pid[pid]

        def fail(what):
            return self.order_failure(what, evs, [qid, name])

        ren = first(evs, renamed)
        sync = first(evs, lambda e: e.name in SYNCS and e.ret == 0 and
                     (e.fd_path() or "").endswith(tmpf))
        self.assertIsNotNone(sync, fail("no fsync of %s" % tmpf))
        self.assertLess(sync, ren, fail("the file's fsync is not before "
                                        "its rename"))
        late = first(evs, lambda e: e.name in WRITES and
                     (e.fd_path() or "").endswith(tmpf), sync + 1)
        self.assertIsNone(late, fail("written after its fsync: %r" %
                                     (evs[late] if late else None)))
        dsync = first(evs, lambda e: e.name in SYNCS and e.ret == 0 and
                      (e.fd_path() or "").endswith("/Maildir/new"), ren + 1)
        self.assertIsNotNone(dsync, fail("no fsync of new/ after the "
                                         "rename"))
        result = first(evs, lambda e: e.name in WRITES and qid in e.args and
                       "UNIX" in e.args.split(",")[0], ren + 1)
        self.assertIsNotNone(result, fail("no answer to qmgr naming %s "
                                          "after the rename" % qid))
        self.assertLess(dsync, result, fail("the answer went to qmgr "
                                            "before the fsync of new/"))
