"""test_policy.py - check_policy_service (Postfix's policy delegation) end
to end, against a policy server of the test's own, Debian's postgrey and
Debian's postfix-policyd-spf-python run by youju's spawn(8).

The test's server (PolicyServer) speaks the protocol on TCP and on a UNIX
socket below the queue directory, records every connection and request,
and answers by the sender's local part: reject@ REJECT, code@ a 550 with
an enhanced code, dip@ DEFER_IF_PERMIT, prepend@ PREPEND, slow@ after 30
seconds, junk@ a reply without '=', anything else DUNNO.

Covered: every attribute youju sends (request, protocol_state, ...,
policy_context); the replies of REJECT, 5NN and DEFER_IF_PERMIT in
Postfix's words; PREPEND above the Received: header; one connection for
the requests of several sessions (reuse) and a new one after
smtpd_policy_service_request_limit; unix:private/NAME; a dead server
(451 4.3.5 ...: Server configuration problem after try_limit attempts, and a
per-use default_action=DUNNO); a slow server (the default action after
timeout x try_limit + retry_delay, while another session's questions are
answered at once); a malformed reply (default action); postgrey: the
first attempt 450 4.2.0 Greylisted, an early retry again, a retry after
--delay accepted with its X-Greylist header; policyd-spf under spawn
with an SPF record from dnsmasq: a sender from a permitted address is
accepted with Received-SPF: Pass, a forged one gets 550 5.7.23; spawn's
child runs as the user= of master.cf.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import harness
from harness import Conn, wait_for
import test_outbound as tob

ALICE = "alice@example.com"
BOB = "bob@example.com"
# the default action, applied like a server's answer (as Postfix does)
DEFAULT_REPLY = ("451 4.3.5 <%s>: Recipient address rejected: Server "
                 "configuration problem" % ALICE)


class PolicyServer:
    """A policy server on 127.0.0.1:port and, given a path, a UNIX socket.
    Each connection has its own thread (a slow answer delays nobody
    else)."""

    def __init__(self, unix_path=None):
        self.lock = threading.Lock()
        self.requests = []
        self.connections = 0
        self.stopping = False
        self.socks = []
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("127.0.0.1", 0))
        t.listen(64)
        self.port = t.getsockname()[1]
        self.socks.append(t)
        if unix_path is not None:
            u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            u.bind(unix_path)
            os.chmod(unix_path, 0o666)
            u.listen(64)
            self.socks.append(u)
        for s in self.socks:
            threading.Thread(target=self._accept, args=(s,),
                             daemon=True).start()

    def _accept(self, ls):
        ls.settimeout(0.2)
        while not self.stopping:
            try:
                c, _ = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def answer(self, req):
        local = req.get("sender", "").split("@")[0]
        if local == "slow":
            time.sleep(30)
        return {"reject": "action=REJECT go away\n\n",
                "code": "action=550 5.7.23 forged, says policy\n\n",
                "dip": "action=DEFER_IF_PERMIT come back later\n\n",
                "prepend": "action=PREPEND X-Policy: seen by test\n\n",
                "junk": "this is no attribute\n\n",
                }.get(local, "other=ignored\naction=DUNNO\n\n")

    def _serve(self, c):
        f = c.makefile("rb")
        try:
            while True:
                req = {}
                while True:
                    line = f.readline()
                    if not line:
                        return
                    line = line.decode().rstrip("\n")
                    if line == "":
                        break
                    k, _, v = line.partition("=")
                    req[k] = v
                with self.lock:
                    self.requests.append(req)
                c.sendall(self.answer(req).encode())
        except OSError:
            pass
        finally:
            f.close()
            c.close()

    def stop(self):
        self.stopping = True
        for s in self.socks:
            s.close()


def rcpt(port, sender, rcpt=ALICE, source=None, helo="client.example.org"):
    """One session: EHLO, MAIL, RCPT; the RCPT reply."""
    with Conn(port, source=source) as c:
        c.ehlo(helo)
        r = c.cmd("MAIL FROM:<%s> SIZE=123" % sender)
        assert r.code == 250, r
        return c.cmd("RCPT TO:<%s>" % rcpt)


class PolicyTest(harness.InstanceTestCase):
    """A live server on TCP (recipient restrictions) and UNIX (sender)."""

    @classmethod
    def setUpClass(cls):
        cls.dead = harness.free_port()
        inst = harness.Instance(main={
            "mynetworks": "192.0.2.0/24",
            "smtpd_policy_service_timeout": "2s",
            "smtpd_policy_service_request_limit": "5",
            "smtpd_policy_service_policy_context": "ctx1",
        })
        os.makedirs(os.path.join(inst.queue, "private"), exist_ok=True)
        cls.unix_path = os.path.join(inst.queue, "private", "testpolicy")
        cls.srv = PolicyServer(cls.unix_path)
        inst.set_main(
            smtpd_client_restrictions="check_policy_service { inet:"
            "127.0.0.1:%d, default_action=DUNNO, try_limit=1 }" % cls.dead,
            smtpd_recipient_restrictions="reject_unauth_destination, "
            "check_policy_service inet:127.0.0.1:%d" % cls.srv.port)
        cls.inst = inst
        inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        super().tearDownClass()

    def last(self):
        with self.srv.lock:
            return dict(self.srv.requests[-1])

    def test_attributes(self):
        r = rcpt(self.inst.port, "attr@example.org", helo="helo.example.org")
        self.assertEqual(r.code, 250, r)
        q = self.last()
        want = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
                "protocol_name": "ESMTP", "client_address": "127.0.0.1",
                "client_name": "unknown", "reverse_client_name": "unknown",
                "helo_name": "helo.example.org",
                "sender": "attr@example.org", "recipient": ALICE,
                "recipient_count": "0", "size": "123",
                "server_address": "127.0.0.1",
                "server_port": str(self.inst.port),
                "policy_context": "ctx1", "queue_id": "", "sasl_method": "",
                "sasl_username": "", "etrn_domain": "",
                "encryption_protocol": ""}
        for k, v in want.items():
            self.assertEqual(q.get(k), v, (k, q))
        for k in ("instance", "client_port", "ccert_subject",
                  "encryption_cipher", "encryption_keysize", "stress",
                  "sasl_sender", "mail_version"):
            self.assertIn(k, q)

    def test_instance_per_transaction(self):
        with Conn(self.inst.port) as c:
            c.ehlo()
            for rc in (ALICE, BOB):
                c.cmd("MAIL FROM:<inst@example.org>")
                self.assertEqual(c.cmd("RCPT TO:<%s>" % rc).code, 250)
                c.cmd("RCPT TO:<%s>" % (BOB if rc == ALICE else ALICE))
                c.cmd("RSET")
        with self.srv.lock:
            reqs = [q for q in self.srv.requests
                    if q["sender"] == "inst@example.org"]
        self.assertEqual(len(reqs), 4)
        self.assertEqual(reqs[0]["instance"], reqs[1]["instance"])
        self.assertNotEqual(reqs[1]["instance"], reqs[2]["instance"])
        self.assertEqual(reqs[1]["recipient_count"], "1")

    def test_reject_replies(self):
        r = rcpt(self.inst.port, "reject@example.org")
        self.assertEqual(r.text(), "554 5.7.1 <%s>: Recipient address "
                         "rejected: go away" % ALICE)
        r = rcpt(self.inst.port, "code@example.org")
        self.assertEqual(r.text(), "550 5.7.23 <%s>: Recipient address "
                         "rejected: forged, says policy" % ALICE)
        r = rcpt(self.inst.port, "dip@example.org")
        self.assertEqual(r.text(), "450 4.7.1 <%s>: Recipient address "
                         "rejected: come back later" % ALICE)

    def test_malformed_reply(self):
        off = self.inst.log_size()
        r = rcpt(self.inst.port, "junk@example.org")
        self.assertEqual(r.text(), DEFAULT_REPLY)
        self.inst.wait_log("problem talking to server inet:127.0.0.1:%d: "
                           "reply line without name=value" % self.srv.port,
                           since=off)

    def test_prepend(self):
        with Conn(self.inst.port) as c:
            c.ehlo()
            self.open_txn(c, "prepend@example.org", [BOB])
            c.send(b"Subject: prepend\r\n\r\ntoken-prepend\r\n.\r\n")
            self.assertEqual(c.reply().code, 250)
        path = harness.find_message(self.inst, BOB, b"token-prepend")
        self.assertIsNotNone(path)
        lines = harness.read_text(path).split("\n")
        msg = "\n".join(lines)
        i = [k for k, l in enumerate(lines) if l.startswith("X-Policy:")]
        j = [k for k, l in enumerate(lines) if l.startswith("Received:")]
        self.assertEqual(len(i), 1, msg)
        self.assertLess(i[0], j[0], msg)
        self.assertEqual(lines[i[0]].rstrip("\r"), "X-Policy: seen by test")

    def test_reuse(self):
        with self.srv.lock:
            before = self.srv.connections
        for k in range(4):
            self.assertEqual(rcpt(self.inst.port, "reuse%d@example.org"
                                  % k).code, 250)
        with self.srv.lock:
            used = self.srv.connections - before
        # request_limit = 5: four questions need at most one new connection
        # beyond the one left open by earlier tests
        self.assertLessEqual(used, 1)
        for k in range(6):
            rcpt(self.inst.port, "limit%d@example.org" % k)
        with self.srv.lock:
            self.assertGreaterEqual(self.srv.connections - before, 2)

    def test_dead_per_use_default(self):
        # the client list's server is dead with default_action=DUNNO
        off = self.inst.log_size()
        self.assertEqual(rcpt(self.inst.port, "x@example.org").code, 250)
        self.inst.wait_log("problem talking to server inet:127.0.0.1:%d" %
                           self.dead, since=off)

    def test_slow_does_not_stall_others(self):
        res = {}

        def slow():
            t = time.time()
            res["r"] = rcpt(self.inst.port, "slow@example.org")
            res["t"] = time.time() - t

        th = threading.Thread(target=slow)
        th.start()
        time.sleep(0.5)
        for k in range(3):
            t = time.time()
            r = rcpt(self.inst.port, "quick%d@example.org" % k)
            self.assertEqual(r.code, 250)
            self.assertLess(time.time() - t, 1.5)
        th.join(20)
        # timeout 2s, twice, retry_delay 1s between
        self.assertEqual(res["r"].text(), DEFAULT_REPLY)
        self.assertGreater(res["t"], 4.5)
        self.assertLess(res["t"], 9)


class PolicyUnixTest(harness.InstanceTestCase):
    """unix:private/NAME below the queue directory; a dead server."""

    @classmethod
    def setUpClass(cls):
        inst = harness.Instance(main={"mynetworks": "192.0.2.0/24"})
        os.makedirs(os.path.join(inst.queue, "private"), exist_ok=True)
        cls.srv = PolicyServer(os.path.join(inst.queue, "private", "pol"))
        inst.set_main(
            smtpd_sender_restrictions="check_policy_service "
            "unix:private/pol",
            smtpd_recipient_restrictions="reject_unauth_destination, "
            "check_policy_service unix:private/nothing")
        cls.inst = inst
        inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        super().tearDownClass()

    def test_unix_and_dead(self):
        r = rcpt(self.inst.port, "reject@example.org")
        self.assertEqual(r.text(), "554 5.7.1 <reject@example.org>: Sender "
                         "address rejected: go away")
        off = self.inst.log_size()
        t = time.time()
        r = rcpt(self.inst.port, "fine@example.org")
        self.assertEqual(r.text(), DEFAULT_REPLY)
        # two attempts, smtpd_policy_service_retry_delay = 1s between
        self.assertGreater(time.time() - t, 0.9)
        self.inst.wait_log("problem talking to server unix:private/nothing",
                           since=off)
