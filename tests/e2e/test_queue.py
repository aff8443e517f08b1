"""test_queue.py - "mailctl queue" end to end, running and stopped.

Three instances.  QueueBasicsTest is the harness's hermetic default
(remote mail goes to a relay that refuses): an empty queue, usage errors
(exit 2), unknown and garbage ids (exit 1), all of that again while the
server is stopped, and the control socket private/control refusing
everyone but root (mailctl run as nobody says so).  The other two send
remote mail through relayhost to an aiosmtpd peer on 127.0.0.211 or .212
(test_outbound.Peer) behind a Gate: every recipient is answered 451 until
the test opens its address, so a message stays deferred exactly as long
as a test wants.

QueueRunningTest (back-off 1-2 s, so retries keep coming): list text and
--json (JSON Lines: fields, states, pending and final recipients,
delay_reason), show (envelope, recipients, history lines with times after
a few deferrals, header lines; ESC, BEL and 8-bit bytes in a header are
escaped, and an ESC in the peer's reply never reaches the output raw),
hold (no more attempts in the maillog, shown as hold) and release
(delivered), delete of a deferred and of a held message, delete
--all-deferred (the held one stays), answers larger than one IPC frame
(700 recipients), hold and delete while a delivery is in flight (done when
it ends), requeue of a held message.

QueueStoppedTest (back-off 600-1200 s, so nothing is retried unless asked):
flush ID / DOMAIN / all (delivered at once, the others untouched), requeue
(attempts from zero: the next back-off is the minimal one), reindex while
running after the index file was removed; with the server stopped list,
show (the same text as qmgr's), hold, release, delete, delete
--all-deferred, requeue, flush ID and DOMAIN, reindex (schedules kept),
then a restart (held stays held, released/flushed/requeued are delivered,
deleted never are); and reindex after index/queue.db was deleted, with
1000 damaged files (a progress line, moved to corrupt/).

Every class checks at teardown (harness.InstanceTestCase) that no daemon
and no mailctl run produced a sanitizer report.
"""
import asyncio
import datetime
import json
import os
import pwd
import re
import subprocess
import sys
import time

import harness
from harness import Instance, wait_for

import test_outbound as ob

ALICE = "alice@example.com"
QID_RX = r"[0-9A-HJKMNP-TV-Z]{16}"
UNKNOWN = "0000000000000000"            # well-formed, never used
HOSTILE_REPLY = "451 4.7.1 not yet \x1b[2J\x1b[31mred"
# smtp(8) already turns the control bytes of a reply into "?"
EVIL_SHOWN = (r"4\.7\.1 host \S+ said: 451 4\.7\.1 not yet \?\[2J\?\[31mred "
              r"\(in reply to RCPT TO command\)")


def mq(inst, *args):
    """mailctl -c DIR queue ARGS (never raises)."""
    return inst.mailctl("queue", *args, check=False)


def jlines(text):
    """JSON Lines -> objects (every non-empty line must parse)."""
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def utc(s):
    """'YYYY-MM-DD HH:MM:SS' (UTC) -> epoch seconds."""
    return datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Gate(ob.Recorder):
    """A recorder that answers 451 to a recipient until its address is
    in `opened`; for addresses in `slow` the RCPT is accepted and the DATA
    reply comes after slow_delay seconds and is a 451 (a delivery held in
    flight).  Addresses starting with "evil" get a reply text with ESC
    sequences.  Only messages answered 250 are recorded."""

    def __init__(self):
        super().__init__(rcpt_reply=self.rcpt)
        self.opened = set()
        self.slow = set()
        self.slow_delay = 2.5
        self.in_data = set()        # slow addresses whose DATA is pending

    def rcpt(self, addr, n):
        if addr in self.opened or addr in self.slow:
            return None
        if addr.startswith("evil"):
            return HOSTILE_REPLY
        return "451 4.7.1 %s: not yet" % addr

    async def handle_DATA(self, server, session, envelope):
        slow = [a for a in envelope.rcpt_tos if a in self.slow]
        if not slow:
            return await super().handle_DATA(server, session, envelope)
        with self.lock:
            self.in_data.update(slow)
        try:
            await asyncio.sleep(self.slow_delay)
        finally:
            with self.lock:
                self.in_data.difference_update(slow)
        return "451 4.3.0 slow and failing"


class QueueCase(ob.OutboundCase):
    """An instance whose relayhost is a Gate peer on PEER_ADDR."""

    USE_DNSMASQ = False
    PEER_ADDR = "127.0.0.211"

    @classmethod
    def make_peers(cls):
        cls.gate = Gate()
        cls.peer = cls.add_peer(ob.Peer(cls.PEER_ADDR, cls.port, cls.gate))

    @classmethod
    def main_extra(cls):
        extra = {"relayhost": "[%s]:%d" % (cls.PEER_ADDR, cls.port)}
        extra.update(cls.MAIN)
        return extra

    # -- helpers --
    def ok(self, *args, out=None):
        """mailctl queue ARGS must exit 0; its stdout (regex `out` must
        match it)."""
        r = mq(self.inst, *args)
        self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
        self.assertEqual(r.stderr, "", (args, r.stderr))
        if out is not None:
            self.assertRegex(r.stdout, out, args)
        return r.stdout

    def fails(self, *args, err, rc=1):
        """mailctl queue ARGS must exit rc with nothing on stdout and
        `err` (regex) on stderr."""
        r = mq(self.inst, *args)
        self.assertEqual(r.returncode, rc, (args, r.stdout, r.stderr))
        self.assertEqual(r.stdout, "", (args, r.stdout))
        self.assertRegex(r.stderr, err, args)
        return r.stderr

    def listing(self):
        """list --json as {queue_id: object}."""
        return {o["queue_id"]: o for o in jlines(self.ok("list", "--json"))}

    def wait_state(self, qid, state, timeout=10):
        got = wait_for(lambda: self.listing().get(qid, {}).get(
            "queue_name") == state and self.listing()[qid], timeout)
        self.assertTrue(got, "%s not %s: %s" % (qid, state, self.listing()
                                                 .get(qid)))
        return got

    def held(self, qid):
        return os.path.exists(os.path.join(self.inst.queue, "hold", qid))

    def deferrals(self, qid):
        return len(self.log_lines(qid, r"status=deferred"))

    def wait_deferrals(self, qid, n, timeout=15):
        self.assertTrue(wait_for(lambda: self.deferrals(qid) >= n, timeout),
                        "%s: fewer than %d deferrals:\n%s" %
                        (qid, n, self.tail()))

    def delivered(self, token):
        return self.gate.with_token(token)

    def submit_to(self, addr, token):
        qid = self.submit(addr, token)
        self.wait_deferrals(qid, 1)
        return qid


# ===================================================================== 1 ==
class QueueBasicsTest(harness.InstanceTestCase):
    """The default hermetic instance without any mail."""

    USAGE = [[], ["bogus"], ["list", "--xml"], ["list", "--json", "x"],
             ["show"], ["show", "a", "b"], ["hold"], ["hold", "--all"],
             ["release"], ["delete"], ["delete", "--all", "x"],
             ["delete", "--from"], ["delete", "--to", "a", "b"],
             ["delete", "--all-deferred", "x"], ["requeue"],
             ["flush", "a", "b"], ["flush", "--now"], ["reindex", "x"],
             ["show", "x" * 300], ["delete", "ALL", "incoming"],
             ["delete", "ALL", "deferred", "x"], ["delete", "ALL", "All"]]

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance()
        try:
            cls.inst.start()
            cls.inst.wait_settled()
        except Exception:
            cls.inst.cleanup()
            raise

    def check_empty(self):
        r = mq(self.inst, "list")
        self.assertEqual((r.returncode, r.stderr), (0, ""), r)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 2, r.stdout)
        self.assertRegex(lines[0], r"^QUEUE ID +SIZE +ARRIVAL \(UTC\) +STATE"
                         r" +NEXT ATTEMPT +SENDER$")
        self.assertEqual(lines[1], "-- the queue is empty")
        r = mq(self.inst, "list", "--json")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""), r)

    def check_usage(self):
        for args in self.USAGE:
            r = mq(self.inst, *args)
            self.assertEqual(r.returncode, 2, (args, r))
            self.assertEqual(r.stdout, "", args)
            self.assertIn("usage: mailctl queue list [--json]", r.stderr,
                          args)

    def check_bad_ids(self, running):
        """Unknown and garbage ids: exit 1, one clear line on stderr,
        control bytes escaped."""
        for cmd in ("show", "hold", "release", "delete", "requeue",
                    "flush"):
            for arg in (UNKNOWN, "../../etc/passwd", "x\x1b[2Jy"):
                if cmd == "flush" and arg != UNKNOWN:
                    continue            # a domain: nothing to flush
                r = mq(self.inst, cmd, arg)
                self.assertEqual(r.returncode, 1, (cmd, arg, r, running))
                self.assertEqual(r.stdout, "", (cmd, arg, r, running))
                self.assertNotIn("\x1b", r.stderr)
                shown = arg.replace("\x1b", "\\x1b")
                self.assertRegex(r.stderr, r"^(mailctl: )?%s: no such "
                                 r"message (in the|on hold)" %
                                 re.escape(shown), (cmd, arg, running))
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)

    def test_empty_queue(self):
        self.check_empty()
        r = mq(self.inst, "flush")
        self.assertEqual((r.returncode, r.stdout), (0,
                         "flushed 0 deferred messages\n"), r)
        r = mq(self.inst, "delete", "--all-deferred")
        self.assertEqual((r.returncode, r.stdout), (0,
                         "deleted 0 deferred messages\n"), r)
        self.check_delete_all_empty()
        r = mq(self.inst, "reindex")
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(r.stdout, r"^reindexed 0 messages")

    def check_delete_all_empty(self):
        """postsuper -d ALL [queue] spelling on an empty queue."""
        for args, out in ((["ALL"], "deleted 0 messages\n"),
                          (["ALL", "deferred"],
                           "deleted 0 deferred messages\n"),
                          (["ALL", "active"], "deleted 0 active messages\n"),
                          (["ALL", "hold"], "deleted 0 held messages\n")):
            r = mq(self.inst, "delete", *args)
            self.assertEqual((r.returncode, r.stdout, r.stderr),
                             (0, out, ""), args)
        r = mq(self.inst, "delete", "ALL", "incoming")
        self.assertEqual((r.returncode, r.stdout), (2, ""), r)
        self.assertRegex(r.stderr, r"^mailctl: queue delete ALL: no queue "
                         r"\"incoming\" \(active, deferred or hold\)\n")

    def test_usage_errors(self):
        self.check_usage()
        r = self.inst.mailctl("queue", "list", "--json", check=False)
        self.assertEqual(r.returncode, 0)

    def test_unknown_and_garbage_ids(self):
        self.check_bad_ids(True)

    def test_stopped_empty_usage_and_bad_ids(self):
        self.inst.stop()
        try:
            r = self.inst.mailctl("status", check=False)
            self.assertEqual(r.returncode, 1, r)
            self.check_empty()
            self.check_usage()
            self.check_bad_ids(False)
            r = mq(self.inst, "flush")
            self.assertEqual((r.returncode, r.stdout), (0,
                             "0 deferred messages will be tried as soon "
                             "as the mail system starts\n"), r)
            r = mq(self.inst, "delete", "--all-deferred")
            self.assertEqual((r.returncode, r.stdout), (0,
                             "deleted 0 deferred messages\n"), r)
            self.check_delete_all_empty()
            r = mq(self.inst, "reindex")
            self.assertEqual(r.returncode, 0, r)
            self.assertRegex(r.stdout, r"(?m)^reindexed 0 messages "
                             r"\(0 schedules kept, 0 new entries, 0 damaged")
        finally:
            self.inst.start()
            self.inst.wait_settled()
        self.check_empty()

    def test_control_socket_root_only(self):
        """private/control: nobody cannot even connect (file mode);
        mail_owner can, and qmgr refuses it (peer credentials)."""
        path = os.path.join(self.inst.queue, "private", "control")
        st = os.stat(path)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        probe = ("import os, socket, sys\n"
                 "os.setgroups([]); os.setgid(int(sys.argv[2]))\n"
                 "os.setuid(int(sys.argv[1]))\n"
                 "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
                 "s.settimeout(5)\n"
                 "try:\n"
                 "    s.connect(sys.argv[3])\n"
                 "except OSError as e:\n"
                 "    print('connect', e.errno); sys.exit(0)\n"
                 "try:\n"
                 "    s.send(b'x' * 16)\n"
                 "    print('closed' if s.recv(100) == b'' else 'data')\n"
                 "except (BrokenPipeError, ConnectionResetError):\n"
                 "    print('closed')\n")
        for user, want in (("nobody", r"^connect 13$"),
                           (harness.MAIL_OWNER, r"^closed$")):
            pw = pwd.getpwnam(user)
            off = self.inst.log_size()
            r = subprocess.run([sys.executable, "-c", probe,
                                str(pw.pw_uid), str(pw.pw_gid), path],
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout.strip(), want, user)
            if user == harness.MAIL_OWNER:
                self.assertTrue(self.inst.wait_log(
                    r"qmgr\[\d+\]: .*control connection from uid %d "
                    r"refused" % pw.pw_uid, 5, off), self.inst.log()[off:])
        # mailctl itself, as nobody: a clear refusal, running or not
        for running in (True, False):
            if not running:
                self.inst.stop()
            try:
                r = subprocess.run(
                    ["setpriv", "--reuid=nobody", "--regid=nogroup",
                     "--clear-groups", harness.mailctl_path(), "-c",
                     self.inst.dir, "queue", "list"], capture_output=True,
                    text=True, timeout=30, env=self.inst.daemon_env(True))
            finally:
                if not running:
                    self.inst.start()
                    self.inst.wait_settled()
            self.assertEqual((r.returncode, r.stdout, r.stderr), (
                1, "", "mailctl: the queue commands must be run as root\n"))
        # and root still gets its answer
        self.check_empty()


# ===================================================================== 2 ==
class QueueRunningTest(QueueCase):
    """Back-off 1-2 s: deferred mail is retried all the time."""

    PEER_ADDR = "127.0.0.211"
    MAIN = {}

    def test_list_text_and_json(self):
        qid = self.submit([ALICE, "list1@remote.test", "list2@far.test"],
                          "qlist")
        self.assertTrue(harness.find_message(self.inst, ALICE, b"qlist"))
        self.wait_deferrals(qid, 2)
        o = self.wait_state(qid, "deferred")
        now = time.time()
        self.assertEqual(set(o), {"queue_id", "queue_name", "arrival_time",
                                  "message_size", "attempts",
                                  "next_attempt", "sender", "recipients"})
        self.assertEqual(o["sender"], ALICE)
        self.assertLessEqual(abs(o["arrival_time"] - now), 60)
        self.assertGreater(o["message_size"], 100)
        self.assertGreaterEqual(o["attempts"], 1)
        self.assertGreaterEqual(o["next_attempt"], o["arrival_time"])
        self.assertLessEqual(o["next_attempt"], now + 3)
        rc = {r["address"]: r for r in o["recipients"]}
        self.assertEqual(sorted(rc), sorted([ALICE, "list1@remote.test",
                                             "list2@far.test"]))
        self.assertEqual(rc[ALICE]["status"], "delivered")
        self.assertNotIn("delay_reason", rc[ALICE])
        for a in ("list1@remote.test", "list2@far.test"):
            self.assertEqual(rc[a]["status"], "pending")
            self.assertIn("451 4.7.1 %s: not yet" % a,
                          rc[a]["delay_reason"])
            self.assertNotIn("reason", rc[a])
        # the text list: a line per message, its pending recipients below
        out = self.ok("list")
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^QUEUE ID +SIZE +ARRIVAL \(UTC\) +"
                         r"STATE +NEXT ATTEMPT +SENDER$")
        i = [n for n, l in enumerate(lines) if l.startswith(qid)]
        self.assertEqual(len(i), 1, out)
        m = re.match(r"^(%s) +(\d+)  (\S+ \S+)  (\w+) +(\S+(?: \S+)?)  "
                     r"<(.*)>$" % QID_RX, lines[i[0]])
        self.assertIsNotNone(m, lines[i[0]])
        self.assertEqual(int(m.group(2)), o["message_size"])
        self.assertEqual(utc(m.group(3)), o["arrival_time"])
        self.assertIn(m.group(4), ("active", "deferred"))
        self.assertEqual(m.group(6), ALICE)
        below = lines[i[0] + 1:i[0] + 3]
        self.assertEqual(sorted(re.sub(r"  \(.*", "", l) for l in below),
                         ["    <list1@remote.test>",
                          "    <list2@far.test>"], out)
        for l in below:
            self.assertRegex(l, r"  \(4\.7\.1 host 127\.0\.0\.211\[127\.0\.0\."
                             r"211\] said: 451 4\.7\.1 \S+: not yet \(in "
                             r"reply to RCPT TO command\)\)$")
        self.assertNotIn(ALICE + ">  (", out)
        self.assertRegex(lines[-1], r"^-- \d+ messages?, \d+ KB in the "
                         r"queue$")
        self.ok("delete", qid)

    def test_show_history_and_hostile_bytes(self):
        body = (b"From: <alice@example.com>\r\nTo: <evil1@remote.test>\r\n"
                b"Subject: hi \x1b]0;pwned\x07 \x1b[2J\xff\xfe end\r\n"
                b"Message-ID: <qshow@client.example>\r\n"
                b"X-Folded: first\r\n\tsecond\r\n\r\nqshow body\r\n")
        s = self.inst.smtp()
        s.ehlo("client.example.org")
        s.mail(ALICE)
        s.rcpt("evil1@remote.test")
        code, msg = s.data(body)
        s.quit()
        self.assertEqual(code, 250, msg)
        qid = harness.qid_of(msg)
        self.wait_deferrals(qid, 3)
        out = self.ok("show", qid)
        self.assertNotIn("\x1b", out)
        self.assertNotIn("\x07", out)
        self.assertNotIn("\ufffd", out)
        lines = out.splitlines()
        self.assertEqual(lines[0], "queue id:  " + qid)
        self.assertRegex(lines[1], r"^state:     (active|deferred), \d+ "
                         r"delivery attempts?")
        arrival = utc(re.match(r"^arrival:   (.*) UTC$", lines[2]).group(1))
        self.assertLessEqual(abs(arrival - time.time()), 60)
        self.assertRegex(lines[3], r"^size:      \d+ bytes$")
        self.assertEqual(lines[4], "sender:    <alice@example.com>")
        self.assertIn("attribute: helo_name=client.example.org", lines)
        for name in ("recipients:", "history:", "headers:"):
            self.assertIn(name, lines)
        a, b, c = (lines.index(n) for n in ("recipients:", "history:",
                                              "headers:"))
        rcpts, hist, hdrs = lines[a + 1:b], lines[b + 1:c], lines[c + 1:]
        self.assertEqual(len(rcpts), 1, out)
        self.assertRegex(rcpts[0], r"^  <evil1@remote\.test> pending: "
                         + EVIL_SHOWN + "$")
        # one history line per deferral, with its time, in order
        self.assertGreaterEqual(len(hist), 3, out)
        times = []
        for l in hist:
            m = re.match(r"^  (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)  "
                         r"<evil1@remote\.test> deferred: " + EVIL_SHOWN +
                         "$", l)
            self.assertIsNotNone(m, l)
            times.append(utc(m.group(1)))
        self.assertEqual(times, sorted(times))
        self.assertGreaterEqual(times[0], arrival)
        self.assertLessEqual(times[-1], time.time() + 1)
        self.assertGreaterEqual(times[-1] - times[0], 1)
        self.assertGreaterEqual(len(hist), self.deferrals(qid) - 1)
        # header lines, escaped, folding kept readable, no body
        self.assertRegex(hdrs[0], r"^  Received: from client\.example\.org ")
        self.assertIn("  Subject: hi \\x1b]0;pwned\\x07 \\x1b[2J\\xff\\xfe "
                      "end", hdrs)
        self.assertIn("  X-Folded: first", hdrs)
        self.assertIn("   second", hdrs)
        self.assertNotIn("qshow body", out)
        # JSON carries the same bytes as valid JSON escapes
        raw = self.ok("list", "--json")
        self.assertNotIn("\x1b", raw)
        o = {x["queue_id"]: x for x in jlines(raw)}[qid]
        self.assertEqual(o["recipients"][0]["address"], "evil1@remote.test")
        self.assertRegex(o["recipients"][0]["delay_reason"], EVIL_SHOWN)
        self.ok("delete", qid)

    def test_hold_then_release(self):
        qid = self.submit_to("hold1@remote.test", "qhold1")
        out = self.ok("hold", qid)
        self.assertRegex(out, r"^%s: (held|will be held when the delivery "
                         r"attempt in progress ends)\n$" % qid)
        self.assertTrue(wait_for(lambda: self.held(qid), 10))
        self.assertFalse(self.in_queue(qid))
        self.wait_log_line(qid, "held by the administrator")
        self.assertEqual(self.listing()[qid]["queue_name"], "hold")
        self.assertRegex(self.ok("show", qid), r"(?m)^state:     hold$")
        self.ok("hold", qid, out=r"^%s: already on hold\n$" % qid)
        self.fails("flush", qid, err=r"%s: .*(no such message|on hold)" %
                   qid)
        # no delivery attempt while on hold (the back-off is 1-2 s)
        n = self.deferrals(qid)
        time.sleep(3.5)
        self.assertEqual(self.deferrals(qid), n, self.tail())
        self.assertTrue(self.held(qid))
        # released: delivered at once now that the peer takes it
        self.gate.opened.add("hold1@remote.test")
        self.ok("release", qid, out=r"^%s: released\n$" % qid)
        self.assertFalse(self.held(qid))
        self.wait_peer(self.gate, "qhold1")
        self.wait_gone(qid)
        self.wait_log_line(qid, "released from hold by the administrator")
        self.fails("release", qid, err=r"%s: no such message" % qid)

    def test_delete_deferred_and_held(self):
        q1 = self.submit_to("del1@remote.test", "qdel1")
        q2 = self.submit_to("del2@remote.test", "qdel2")
        self.ok("hold", q2)
        self.assertTrue(wait_for(lambda: self.held(q2), 10))
        self.ok("delete", q1, out=r"^%s: (deleted|will be deleted when the "
                r"delivery attempt in progress ends)\n$" % q1)
        self.ok("delete", q2, out=r"^%s: deleted\n$" % q2)
        self.wait_gone(q1, 10)
        self.assertFalse(self.held(q2))
        self.wait_log_line(q1, ": removed")
        self.wait_log_line(q2, ": removed")
        ids = self.listing()
        self.assertNotIn(q1, ids)
        self.assertNotIn(q2, ids)
        self.fails("delete", q1, err=r"%s: no such message" % q1)
        self.fails("show", q2, err=r"%s: no such message" % q2)
        # the peer would take them now: still nothing is sent
        self.gate.opened.update(["del1@remote.test", "del2@remote.test"])
        time.sleep(2.5)
        self.assertEqual(self.delivered("qdel1") + self.delivered("qdel2"),
                         [])
        self.assertEqual(self.log_lines(q1, "status=sent"), [])

    def test_delete_all_deferred_keeps_held(self):
        qa = self.submit_to("alldef1@remote.test", "qall1")
        qb = self.submit_to("alldef2@remote.test", "qall2")
        qh = self.submit_to("alldef3@remote.test", "qall3")
        self.ok("hold", qh)
        self.assertTrue(wait_for(lambda: self.held(qh), 10))
        first = None
        # a message whose retry is in flight right now is skipped: ask again
        for _ in range(5):
            out = self.ok("delete", "--all-deferred",
                          out=r"^deleted \d+ deferred messages?\n$")
            first = first or out
            if not (self.in_queue(qa) or self.in_queue(qb)):
                break
            time.sleep(0.3)
        self.assertFalse(self.in_queue(qa) or self.in_queue(qb), first)
        self.assertGreaterEqual(int(first.split()[1]), 1)
        self.assertTrue(self.held(qh))
        ids = self.listing()
        self.assertEqual(ids[qh]["queue_name"], "hold")
        self.assertNotIn(qa, ids)
        self.assertNotIn(qb, ids)
        self.ok("delete", qh)

    def test_delete_all_postsuper_spelling(self):
        """delete ALL [queue], as postsuper -d ALL [queue] (issue 8,
        item 7): ALL hold, ALL deferred while retries go on, then ALL
        with a message in flight (removed when its attempt ends); none
        of them is ever sent."""
        qa = self.submit_to("alla@remote.test", "qalla")
        qb = self.submit_to("allb@remote.test", "qallb")
        qh = self.submit_to("allh@remote.test", "qallh")
        self.ok("hold", qh)
        self.assertTrue(wait_for(lambda: self.held(qh), 10))
        held = [q for q, o in self.listing().items()
                if o["queue_name"] == "hold"]
        self.assertIn(qh, held)
        self.ok("delete", "ALL", "hold", out=r"^deleted %d held messages?\n$"
                % len(held))
        self.assertFalse(self.held(qh))
        self.wait_log_line(qh, ": removed")
        self.assertNotIn(qh, self.listing())
        # a deferred message whose retry is in flight is skipped: ask again
        for _ in range(10):
            self.ok("delete", "ALL", "deferred",
                    out=r"^deleted \d+ deferred messages?\n$")
            if not (self.in_queue(qa) or self.in_queue(qb)):
                break
            time.sleep(0.3)
        self.assertFalse(self.in_queue(qa) or self.in_queue(qb),
                         self.listing())
        for q in (qa, qb):
            self.wait_log_line(q, ": removed")
        # ALL: one message in flight (the peer holds its DATA reply back),
        # one deferred, one held
        self.gate.slow.add("allslow@remote.test")
        qc = self.submit_to("allc@remote.test", "qallc")
        qh2 = self.submit_to("allh2@remote.test", "qallh2")
        self.ok("hold", qh2)
        self.assertTrue(wait_for(lambda: self.held(qh2), 10))
        qs = self.submit("allslow@remote.test", "qallslow")
        self.assertTrue(wait_for(lambda: "allslow@remote.test" in
                                 self.gate.in_data, 10), self.tail())
        out = self.ok("delete", "ALL", out=r"^deleted \d+ messages?; [12] "
                      r"more when (its|their) delivery attempts? in "
                      r"progress ends?\n$")
        self.assertGreaterEqual(int(out.split()[1]), 1, out)
        self.assertFalse(self.held(qh2))
        self.wait_gone(qs, 10)
        self.wait_gone(qc, 10)
        self.wait_log_line(qs, ": removed")
        self.assertEqual(self.listing(), {})
        self.gate.slow.discard("allslow@remote.test")
        self.gate.opened.update(["alla@remote.test", "allb@remote.test",
                                 "allh@remote.test", "allc@remote.test",
                                 "allh2@remote.test", "allslow@remote.test"])
        time.sleep(2.5)
        for t in ("qalla", "qallb", "qallh", "qallc", "qallh2", "qallslow"):
            self.assertEqual(self.delivered(t), [], t)

    def test_big_answers_in_several_frames(self):
        """700 recipients with their delay reasons: the JSON line, the
        text list and the report are each larger than one IPC frame
        (64 KB), and come out whole."""
        rcpts = ["big%03d@remote.test" % i for i in range(700)]
        qid = self.submit(rcpts, "qbig")
        self.wait_deferrals(qid, 700)
        self.ok("hold", qid)
        self.assertTrue(wait_for(lambda: self.held(qid), 10))
        raw = self.ok("list", "--json")
        line = [l for l in raw.splitlines() if qid in l]
        self.assertEqual(len(line), 1)
        self.assertGreater(len(line[0]), 70000)
        o = json.loads(line[0])
        self.assertEqual([r["address"] for r in o["recipients"]], rcpts)
        for r in o["recipients"]:
            self.assertEqual(r["status"], "pending")
            self.assertIn("451 4.7.1 %s: not yet" % r["address"],
                          r["delay_reason"])
        text = self.ok("list")
        self.assertGreater(len(text), 70000)
        got = re.findall(r"(?m)^    <(big\d+@remote\.test)>  \(.*not yet "
                         r"\(in reply to RCPT TO command\)\)$", text)
        self.assertEqual(got, rcpts)
        show = self.ok("show", qid)
        self.assertGreater(len(show), 130000)
        self.assertEqual(len(re.findall(r"(?m)^  <big\d+@remote\.test> "
                                        r"pending: ", show)), 700)
        # every recipient's deferral is in the history (a retry round
        # before the hold may have added a second one for some)
        self.assertEqual(set(re.findall(r"(?m)^  \S+ \S+  <(big\d+)@remote"
                                        r"\.test> deferred: ", show)),
                         {r.split("@")[0] for r in rcpts})
        self.assertRegex(show, r"(?m)^headers:\n  Received: ")
        self.ok("delete", qid)

    def test_hold_and_delete_in_flight(self):
        self.gate.slow.update(["slowh@remote.test", "slowd@remote.test"])
        qh = self.submit("slowh@remote.test", "qslowh")
        qd = self.submit("slowd@remote.test", "qslowd")
        self.assertTrue(wait_for(lambda: {"slowh@remote.test",
                                          "slowd@remote.test"} <=
                                 self.gate.in_data, 10), self.tail())
        ids = self.listing()
        self.assertEqual(ids[qh]["queue_name"], "active")
        self.assertEqual(ids[qd]["queue_name"], "active")
        self.ok("hold", qh, out=r"^%s: will be held when the delivery "
                r"attempt in progress ends\n$" % qh)
        self.ok("delete", qd, out=r"^%s: will be deleted when the delivery "
                r"attempt in progress ends\n$" % qd)
        self.assertTrue(self.in_queue(qh) and self.in_queue(qd))
        self.assertTrue(wait_for(lambda: self.held(qh), 10), self.tail())
        self.wait_gone(qd, 10)
        self.assertFalse(self.in_queue(qh))
        self.wait_log_line(qd, ": removed")
        self.assertEqual(self.listing()[qh]["queue_name"], "hold")
        # requeue of a held message releases it; now the peer takes it
        self.gate.slow.discard("slowh@remote.test")
        self.gate.opened.add("slowh@remote.test")
        self.ok("requeue", qh, out=r"^%s: released\n$" % qh)
        self.wait_peer(self.gate, "qslowh")
        self.wait_gone(qh)
        self.assertEqual(self.delivered("qslowd"), [])


# ===================================================================== 3 ==
class QueueStoppedTest(QueueCase):
    """Back-off 600-1200 s: a deferred message is tried again only when
    asked; and the same commands with the server stopped."""

    PEER_ADDR = "127.0.0.212"
    MAIN = {"minimal_backoff_time": "600s", "maximal_backoff_time": "1200s"}

    def restart(self):
        self.inst.start()
        self.inst.wait_settled()

    def test_flush_id_domain_all(self):
        qi = self.submit_to("fid@a.flush.test", "qfid")
        qd = self.submit_to("fdom@b.flush.test", "qfdom")
        qo = self.submit_to("fother@c.flush.test", "qfother")
        qn = self.submit_to("fnever@c.flush.test", "qfnever")
        before = self.listing()
        for q in (qi, qd, qo, qn):
            self.assertEqual(before[q]["queue_name"], "deferred")
            self.assertEqual(before[q]["attempts"], 1)
            self.assertGreater(before[q]["next_attempt"], time.time() + 500)
        self.gate.opened.update(["fid@a.flush.test", "fdom@b.flush.test",
                                 "fother@c.flush.test"])
        self.ok("flush", qi, out=r"^%s: scheduled for delivery now\n$" % qi)
        self.wait_peer(self.gate, "qfid", timeout=5)
        self.wait_gone(qi, 5)
        # a domain, in any case: only the messages with a recipient there
        self.ok("flush", "B.Flush.TEST", out=r"^flushed 1 deferred message "
                r"with recipients at B\.Flush\.TEST\n$")
        self.wait_peer(self.gate, "qfdom", timeout=5)
        self.wait_gone(qd, 5)
        self.assertEqual(self.delivered("qfother"), [])
        after = self.listing()
        self.assertEqual(after[qo], before[qo])
        self.assertEqual(after[qn], before[qn])
        # everything deferred
        out = self.ok("flush", out=r"^flushed \d+ deferred messages\n$")
        self.assertGreaterEqual(int(out.split()[1]), 2)
        self.wait_peer(self.gate, "qfother", timeout=5)
        self.wait_gone(qo, 5)
        self.wait_deferrals(qn, 2, 5)
        o = self.wait_state(qn, "deferred")
        self.assertEqual(o["attempts"], 2)
        self.ok("delete", qn)

    def test_delete_all_stopped(self):
        """delete ALL [queue] with the server stopped (issue 8, item 7):
        ALL active, ALL deferred and ALL each take what list shows in
        that queue, held messages only with ALL or ALL hold; after the
        restart none of them is sent."""
        qa = self.submit_to("sall-a@remote.test", "qsalla")
        qr = self.submit_to("sall-r@remote.test", "qsallr")
        qh = self.submit_to("sall-h@remote.test", "qsallh")
        self.ok("hold", qh)
        self.assertTrue(wait_for(lambda: self.held(qh), 10))
        self.inst.stop()
        try:
            self.ok("requeue", qr)      # active: tried first at start
            got = self.listing()
            self.assertEqual({q: got[q]["queue_name"] for q in (qa, qr, qh)},
                             {qa: "deferred", qr: "active", qh: "hold"})
            n = {st: len([o for o in got.values() if o["queue_name"] == st])
                 for st in ("active", "deferred", "hold")}
            self.ok("delete", "ALL", "active", out=r"^deleted %d active "
                    r"messages?\n$" % n["active"])
            self.assertFalse(self.in_queue(qr))
            self.assertTrue(self.in_queue(qa))
            self.ok("delete", "ALL", "deferred", out=r"^deleted %d deferred "
                    r"messages?\n$" % n["deferred"])
            self.assertFalse(self.in_queue(qa))
            self.assertTrue(self.held(qh))
            self.ok("delete", "ALL", out=r"^deleted %d messages?\n$" %
                    n["hold"])
            self.assertFalse(self.held(qh))
            self.assertEqual(self.listing(), {})
            self.gate.opened.update(["sall-a@remote.test",
                                     "sall-r@remote.test",
                                     "sall-h@remote.test"])
        finally:
            self.restart()
        time.sleep(1.5)
        self.assertEqual(self.listing(), {})
        for t in ("qsalla", "qsallr", "qsallh"):
            self.assertEqual(self.delivered(t), [], t)

    def test_reload_then_flush_at_once(self):
        """mailctl reload immediately followed by mailctl queue flush,
        ten times (issue 8, item 6): every flush is answered - the control
        socket is master's, so while a reload replaces qmgr the request
        waits for the new one - and every flush takes effect."""
        qid = self.submit_to("rf@remote.test", "qrf")
        for i in range(10):
            r = self.inst.mailctl("reload", check=False)
            self.assertEqual((r.returncode, r.stderr), (0, ""), (i, r))
            r = mq(self.inst, "flush")
            self.assertEqual((r.returncode, r.stdout, r.stderr),
                             (0, "flushed 1 deferred message\n", ""),
                             (i, r, self.tail(2000)))
            # tried again at once (and deferred: the gate is closed)
            self.wait_deferrals(qid, i + 2, 20)
            self.wait_state(qid, "deferred")
        self.gate.opened.add("rf@remote.test")
        r = self.inst.mailctl("reload", check=False)
        self.assertEqual(r.returncode, 0, r)
        self.ok("flush", out=r"^flushed 1 deferred message\n$")
        self.wait_peer(self.gate, "qrf", timeout=10)
        self.wait_gone(qid, 10)

    def test_requeue_resets_attempts(self):
        qid = self.submit_to("rq@remote.test", "qrq")
        self.ok("flush", qid)
        self.wait_deferrals(qid, 2)
        o = self.wait_state(qid, "deferred")
        self.assertEqual(o["attempts"], 2)
        # the second back-off is 2 x 600 s
        self.assertGreater(o["next_attempt"] - time.time(), 1100)
        self.ok("requeue", qid, out=r"^%s: requeued\n$" % qid)
        self.wait_deferrals(qid, 3)
        o = self.wait_state(qid, "deferred")
        self.assertEqual(o["attempts"], 1)
        self.assertLess(o["next_attempt"] - time.time(), 610)
        self.assertRegex(self.ok("show", qid), r"(?m)^state:     deferred, "
                         r"1 delivery attempt, next ")
        self.gate.opened.add("rq@remote.test")
        self.ok("requeue", qid)
        self.wait_peer(self.gate, "qrq", timeout=5)
        self.wait_gone(qid, 5)

    def test_reindex_running(self):
        qid = self.submit_to("ri@remote.test", "qri")
        before = self.listing()[qid]
        db = os.path.join(self.inst.queue, "index", "queue.db")
        os.unlink(db)
        out = self.ok("reindex", out=r"^reindexed \d+ messages? \(held "
                      r"messages need no index entry\)\n$")
        self.assertEqual(int(out.split()[1]), len([
            o for o in self.listing().values() if o["queue_name"] != "hold"]))
        self.assertTrue(os.path.exists(db))
        self.assertEqual(self.listing()[qid], before)
        self.wait_log_line("", r"queue index rebuilt by the administrator")
        # the new file holds the schedule: read it with the server stopped
        self.inst.stop()
        try:
            got = {o["queue_id"]: o for o in jlines(self.ok("list",
                                                             "--json"))}
            self.assertEqual(got[qid], before)
        finally:
            self.restart()
        self.assertEqual(self.listing()[qid], before)
        self.ok("delete", qid)

    def test_stopped_commands_then_restart(self):
        names = ["hold0", "hold", "rel", "del", "req", "fl", "dom", "keep",
                 "x"]
        addr = {n: "s%s@%s" % (n, "dom.test" if n == "dom" else
                               "remote.test") for n in names}
        q = {n: self.submit_to(addr[n], "qs" + n) for n in names}
        self.ok("hold", q["hold0"])          # held while running
        self.assertTrue(wait_for(lambda: self.held(q["hold0"]), 10))
        running_list = self.listing()
        running_show = self.ok("show", q["fl"])
        self.inst.stop()
        try:
            # the same view as qmgr's
            self.assertEqual({k: v for k, v in self.listing().items()
                              if k in q.values()},
                             {k: v for k, v in running_list.items()
                              if k in q.values()})
            self.assertEqual(self.ok("show", q["fl"]), running_show)
            text = self.ok("list")
            self.assertRegex(text, r"(?m)^%s +\d+  \S+ \S+  deferred  " %
                             q["keep"])
            self.assertRegex(text, r"(?m)^%s +\d+  \S+ \S+  hold  +-  " %
                             q["hold0"])
            self.assertRegex(text, r"(?m)^-- \d+ messages, \d+ KB in the "
                             r"queue$")
            self.ok("hold", q["hold"], out=r"^%s: held\n$" % q["hold"])
            self.assertTrue(self.held(q["hold"]))
            self.assertFalse(self.in_queue(q["hold"]))
            self.ok("hold", q["hold"], out="already on hold")
            self.assertRegex(self.ok("show", q["hold"]),
                             r"(?m)^state:     hold$")
            self.ok("hold", q["rel"])
            self.ok("release", q["rel"], out=r"^%s: released\n$" % q["rel"])
            self.assertTrue(self.in_queue(q["rel"]))
            self.fails("release", q["keep"], err=r"%s: not on hold" %
                       q["keep"])
            self.ok("delete", q["del"], out=r"^%s: deleted\n$" % q["del"])
            self.assertFalse(self.in_queue(q["del"]))
            self.fails("show", q["del"], err="no such message")
            self.ok("requeue", q["req"], out=r"^%s: requeued: will be tried "
                    r"as soon as the mail system starts\n$" % q["req"])
            self.ok("flush", q["fl"], out=r"^%s: will be tried as soon as "
                    r"the mail system starts\n$" % q["fl"])
            self.fails("flush", q["hold"], err=r"%s: .*on hold" % q["hold"])
            self.ok("flush", "DOM.test", out=r"^1 deferred message will be "
                    r"tried as soon as the mail system starts\n$")
            got = self.listing()
            self.assertEqual(got[q["req"]]["queue_name"], "active")
            self.assertEqual(got[q["req"]]["attempts"], 0)
            self.assertEqual(got[q["fl"]]["queue_name"], "active")
            self.assertEqual(got[q["fl"]]["attempts"], 1)
            self.assertEqual(got[q["dom"]]["queue_name"], "active")
            self.assertEqual(got[q["keep"]], running_list[q["keep"]])
            self.assertEqual(got[q["rel"]]["queue_name"], "active")
            self.assertEqual(got[q["hold"]]["queue_name"], "hold")
            # deferred ones go (keep, x); held and marked ones stay
            self.ok("delete", "--all-deferred",
                    out=r"^deleted 2 deferred messages\n$")
            for n in ("keep", "x"):
                self.assertFalse(self.in_queue(q[n]), n)
            # req, fl, dom kept their marks; rel got its entry (active,
            # now) when qmgr released it, as a running qmgr does
            self.ok("reindex", out=r"^reindex: reading the queue files\n"
                    r"reindexed 4 messages \(4 schedules kept, 0 new "
                    r"entries, 0 damaged files moved to corrupt/\)\n$")
            self.assertEqual(self.listing()[q["fl"]]["queue_name"],
                             "active")
            self.gate.opened.update(addr.values())
        finally:
            self.restart()
        for n in ("rel", "req", "fl", "dom"):
            self.wait_peer(self.gate, "qs" + n, timeout=10)
            self.wait_gone(q[n], 10)
        ids = self.listing()
        for n in ("hold0", "hold"):
            self.assertTrue(self.held(q[n]), n)
            self.assertEqual(ids[q[n]]["queue_name"], "hold")
        for n in ("del", "keep", "x"):
            self.assertNotIn(q[n], ids)
        time.sleep(1.5)
        for n in ("hold0", "hold", "del", "keep", "x"):
            self.assertEqual(self.delivered("qs" + n), [], n)
        # released now: delivered
        self.ok("release", q["hold"])
        self.wait_peer(self.gate, "qshold", timeout=5)
        self.ok("delete", q["hold0"])

    def test_reindex_after_index_lost(self):
        q1 = self.submit_to("lost1@remote.test", "qlost1")
        q2 = self.submit_to("lost2@remote.test", "qlost2")
        self.inst.stop()
        try:
            os.unlink(os.path.join(self.inst.queue, "index", "queue.db"))
            got = self.listing()
            self.assertEqual(got[q1]["queue_name"], "active")
            self.assertEqual(got[q2]["attempts"], 0)
            # 1000 damaged files with well-formed names (queue/Z/Z/)
            owner = pwd.getpwnam(harness.MAIL_OWNER)
            d = os.path.join(self.inst.queue, "queue")
            for sub in ("Z", "Z"):
                d = os.path.join(d, sub)
                if not os.path.isdir(d):
                    os.mkdir(d, 0o700)
                    os.chown(d, owner.pw_uid, owner.pw_gid)
            digits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
            bad = []
            for i in range(1000):
                qid = "00000" + "".join(digits[(i >> s) & 31]
                                        for s in (25, 20, 15, 10, 5, 0)) + \
                    "000ZZ"
                path = os.path.join(d, qid)
                with open(path, "wb") as f:
                    f.write(b"not a queue file\n")
                os.chown(path, owner.pw_uid, owner.pw_gid)
                bad.append(qid)
            r = mq(self.inst, "reindex")
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            self.assertRegex(r.stdout, r"^reindex: reading the queue files "
                             r"\(no readable index: every message starts as "
                             r"active\)\nreindex: 1000 files read\n"
                             r"reindexed 2 messages \(0 schedules kept, 2 "
                             r"new entries, 1000 damaged files moved to "
                             r"corrupt/\)\n$")
            self.assertEqual(r.stderr.count("moved to corrupt/"), 1000)
            self.assertEqual(os.listdir(d), [])
            corrupt = os.listdir(os.path.join(self.inst.queue, "corrupt"))
            self.assertEqual(sorted(corrupt), sorted(bad))
            st = os.stat(os.path.join(self.inst.queue, "index",
                                      "queue.db"))
            self.assertEqual(st.st_uid, owner.pw_uid)
            self.gate.opened.update(["lost1@remote.test",
                                     "lost2@remote.test"])
        finally:
            self.restart()
        self.wait_peer(self.gate, "qlost1", timeout=10)
        self.wait_peer(self.gate, "qlost2", timeout=10)
        self.wait_gone(q1, 10)
        self.wait_gone(q2, 10)
