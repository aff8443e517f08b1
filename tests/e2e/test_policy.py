"""test_policy.py - check_policy_service (Postfix's policy delegation) end
to end, against a policy server of the test's own, Debian's postgrey and
Debian's postfix-policyd-spf-python run by youju's spawn(8).

The test's server (PolicyServer) speaks the protocol on TCP and on a UNIX
socket below the queue directory, records every connection and request,
and answers by the sender's local part: reject@ REJECT, code@ a 550 with
an enhanced code, dip@ DEFER_IF_PERMIT, prepend@ PREPEND, restr@
restriction names, nested@ a check_policy_service, slow@ after 30
seconds, junk@ a reply without '=', anything else DUNNO (and DUNNO to
every request with policy_context=second).

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
child runs as the user= of master.cf; a spawned program past
NAME_time_limit is killed; mailctl check accepts policyd-spf_time_limit
and refuses spawn lines with user=root, a relative argv=, no argv=, an
unknown attribute or user, and unpriv y.
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
        self.served = []        # requests of each connection, once closed
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
        if req.get("policy_context") == "second":
            return "action=DUNNO\n\n"
        local = req.get("sender", "").split("@")[0]
        if local == "slow":
            time.sleep(30)
        return {"reject": "action=REJECT go away\n\n",
                "code": "action=550 5.7.23 forged, says policy\n\n",
                "dip": "action=DEFER_IF_PERMIT come back later\n\n",
                "prepend": "action=PREPEND X-Policy: seen by test\n\n",
                "junk": "this is no attribute\n\n",
                "restr": "action=permit_mynetworks, reject\n\n",
                "nested": "action=check_policy_service inet:127.0.0.1:9"
                "\n\n",
                }.get(local, "other=ignored\naction=DUNNO\n\n")

    def _serve(self, c):
        f = c.makefile("rb")
        n = 0
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
                n += 1
                c.sendall(self.answer(req).encode())
        except OSError:
            pass
        finally:
            with self.lock:
                self.served.append(n)
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


def deliver(test, sender, rcpts, token, source=None,
            helo="client.example.org"):
    """One message from sender to rcpts (all accepted) with token in its
    body; the text of the copy the last recipient got."""
    with Conn(test.inst.port, source=source) as c:
        c.ehlo(helo)
        test.open_txn(c, sender, rcpts)
        c.send(b"Subject: test\r\n\r\n" + token.encode() + b"\r\n.\r\n")
        test.assertEqual(c.reply().code, 250)
    path = harness.find_message(test.inst, rcpts[-1], token.encode())
    test.assertIsNotNone(path)
    return harness.read_text(path)


class PolicyCase(harness.InstanceTestCase):
    """An instance with a PolicyServer as cls.srv, stopped with it."""

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        super().tearDownClass()


class PolicyTest(PolicyCase):
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
        # restriction names, evaluated in place (the client is not in
        # mynetworks here)
        r = rcpt(self.inst.port, "restr@example.org")
        self.assertEqual(r.text(), "554 5.7.1 <%s>: Recipient address "
                         "rejected: Access denied" % ALICE)
        # a server cannot name another server
        r = rcpt(self.inst.port, "nested@example.org")
        self.assertEqual(r.text(), "451 4.3.5 Server configuration error")

    def test_malformed_reply(self):
        off = self.inst.log_size()
        r = rcpt(self.inst.port, "junk@example.org")
        self.assertEqual(r.text(), DEFAULT_REPLY)
        self.inst.wait_log("problem talking to server inet:127.0.0.1:%d: "
                           "reply line without name=value" % self.srv.port,
                           since=off)

    def test_prepend(self):
        msg = deliver(self, "prepend@example.org", [BOB], "token-prepend")
        lines = msg.split("\n")
        i = [k for k, l in enumerate(lines) if l.startswith("X-Policy:")]
        j = [k for k, l in enumerate(lines) if l.startswith("Received:")]
        self.assertEqual(len(i), 1, msg)
        self.assertLess(i[0], j[0], msg)
        self.assertEqual(lines[i[0]].rstrip("\r"), "X-Policy: seen by test")

    def test_reuse(self):
        with self.srv.lock:
            before = self.srv.connections
            closed = len(self.srv.served)
        for k in range(4):
            self.assertEqual(rcpt(self.inst.port, "reuse%d@example.org"
                                  % k).code, 250)
        with self.srv.lock:
            used = self.srv.connections - before
        # request_limit = 5: four questions need at most one new connection
        # per smtpd process (each keeps its own open between questions),
        # not one per question
        self.assertLessEqual(used, len(self.inst.pids("smtpd")))
        # more questions: whichever smtpd processes take them (each has a
        # connection of its own), with five per process one connection
        # reaches the limit and smtpd closes it after its fifth answer
        for k in range(50):
            rcpt(self.inst.port, "limit%d@example.org" % k)
            if wait_for(lambda: 5 in self.srv.served[closed:], timeout=0.2):
                break
        self.assertIn(5, self.srv.served[closed:], self.srv.served)
        with self.srv.lock:
            self.assertLessEqual(max(self.srv.served), 5, self.srv.served)

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


class PolicyUnixTest(PolicyCase):
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


class PolicyTwiceTest(PolicyCase):
    """Two uses in one list: the second one's wait runs the lists again,
    and the first one's PREPEND is still added once."""

    @classmethod
    def setUpClass(cls):
        inst = harness.Instance(main={"mynetworks": "192.0.2.0/24"})
        os.makedirs(os.path.join(inst.queue, "private"), exist_ok=True)
        cls.srv = PolicyServer(os.path.join(inst.queue, "private", "pol"))
        inst.set_main(smtpd_recipient_restrictions="reject_unauth_destination,"
                      " check_policy_service unix:private/pol,"
                      " check_policy_service { unix:private/pol,"
                      " policy_context=second }")
        cls.inst = inst
        inst.start()

    def test_prepend_once(self):
        text = deliver(self, "prepend@example.org", [ALICE, BOB],
                       "token-twice")
        # one per recipient (Postfix adds each answer's header), not one
        # per evaluation of the lists
        self.assertEqual(text.count("X-Policy: seen by test"), 2, text)
        with self.srv.lock:
            ctx = [q.get("policy_context") for q in self.srv.requests]
        self.assertEqual(ctx, ["", "second"] * 2)


class Postgrey:
    """Debian's postgrey as a daemon on 127.0.0.1:port (its own database
    and empty whitelists in a temporary directory), stopped by its pid."""

    def __init__(self, delay):
        self.dir = tempfile.mkdtemp(prefix="youju-e2e-postgrey-")
        os.chmod(self.dir, 0o755)
        pw = pwd.getpwnam("postgrey")
        db = os.path.join(self.dir, "db")
        os.mkdir(db)
        os.chown(db, pw.pw_uid, pw.pw_gid)
        wl = os.path.join(self.dir, "whitelist")
        open(wl, "w").close()
        self.pidfile = os.path.join(self.dir, "postgrey.pid")
        self.port = harness.free_port()
        subprocess.run(["/usr/sbin/postgrey", "--daemonize",
                        "--inet=127.0.0.1:%d" % self.port,
                        "--pidfile=" + self.pidfile, "--dbdir=" + db,
                        "--delay=%d" % delay, "--hostname=greylist.test",
                        "--whitelist-clients=" + wl,
                        "--whitelist-recipients=" + wl], check=True,
                       timeout=60, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(lambda: self.pid() is not None and
                        self._listening(), 30):
            raise RuntimeError("postgrey did not start")

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
            return True
        except OSError:
            return False

    def pid(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            if not harness.wait_pid_gone(pid, 10):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgreyTest(harness.InstanceTestCase):
    """Greylisting by Debian's postgrey: 450 first, accepted after the
    delay with postgrey's X-Greylist header."""

    DELAY = 3

    @classmethod
    def setUpClass(cls):
        cls.grey = Postgrey(cls.DELAY)
        cls.inst = harness.Instance(main={
            "mynetworks": "192.0.2.0/24",
            "smtpd_recipient_restrictions": "permit_mynetworks, "
            "reject_unauth_destination, check_policy_service "
            "inet:127.0.0.1:%d" % cls.grey.port})
        try:
            cls.inst.start()
        except Exception:
            cls.grey.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.grey.stop()
        super().tearDownClass()

    def test_greylisting(self):
        grey = ("450 4.2.0 <%s>: Recipient address rejected: Greylisted, "
                "see http://postgrey.schweikert.ch/help/example.com.html"
                % ALICE)
        first = time.time()
        r = rcpt(self.inst.port, "grey@example.org")
        self.assertEqual(r.text(), grey)
        r = rcpt(self.inst.port, "grey@example.org")
        self.assertEqual(r.text(), grey, "an early retry is greylisted")
        time.sleep(max(0, first + self.DELAY + 1.5 - time.time()))
        text = deliver(self, "grey@example.org", [ALICE], "token-grey")
        self.assertRegex(text, r"(?m)^X-Greylist: delayed \d+ seconds by "
                         r"postgrey-[0-9.]+ at greylist.test; ")
        self.assertLess(text.index("X-Greylist:"), text.index("Received:"))


# the SPF policy server under spawn(8): Debian's policyd-spf engine with
# its resolver pointed at the test's dnsmasq (the host's resolv.conf is
# not the test's to change; everything else is /usr/bin/policyd-spf)
SPF_WRAPPER = """import sys
import dns.resolver
r = dns.resolver.Resolver(configure=False)
r.nameservers = ["127.0.0.1"]
r.port = %d
dns.resolver.default_resolver = r
from spf_engine.policyd_spf import main
sys.argv = ["policyd-spf", %r]
sys.exit(main())
"""
SPF_CONF = """debugLevel = 0
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = 192.0.2.0/24
"""


def spf_wrapper(inst, dns_port):
    """SPF_WRAPPER and SPF_CONF in the instance directory, and the
    wrapper's path for the "%s" of its master.cf."""
    wrapper = os.path.join(inst.dir, "policyd-spf-test.py")
    conf = os.path.join(inst.dir, "policyd-spf.conf")
    with open(wrapper, "w") as f:
        f.write(SPF_WRAPPER % (dns_port, conf))
    with open(conf, "w") as f:
        f.write(SPF_CONF)
    mcf = os.path.join(inst.dir, "master.cf")
    with open(mcf) as f:
        text = f.read()
    with open(mcf, "w") as f:
        f.write(text % wrapper)


class SpfTest(harness.InstanceTestCase):
    """policyd-spf run by spawn(8) for each connection, as user
    policyd-spf; spf.test allows 127.0.0.7 only.  A second spawn service
    runs /bin/sleep 30 with sleeper_time_limit = 1s.  At the stop spawn
    ends (SIGTERM, and logs it) the policyd-spf children whose
    connection smtpd still keeps for reuse."""

    EXPECTED_KILLS = ("sleep", "python3")

    @classmethod
    def setUpClass(cls):
        cls.dns = tob.Dnsmasq(extra=[
            "--txt-record=spf.test,v=spf1 ip4:127.0.0.7 -all"])
        inst = harness.Instance(
            main={"mynetworks": "192.0.2.0/24",
                  "smtpd_recipient_restrictions":
                  "reject_unauth_destination, check_policy_service "
                  "unix:private/policyd-spf",
                  "policyd-spf_time_limit": "3600s",
                  "sleeper_time_limit": "1s"},
            master_extra="policyd-spf unix - n n - 0 spawn\n"
            "    user=policyd-spf argv=/usr/bin/python3 %s\n"
            "sleeper unix - n n - 2 spawn user=nobody argv=/bin/sleep 30\n")
        spf_wrapper(inst, cls.dns.port)
        cls.inst = inst
        try:
            inst.start()
        except Exception:
            cls.dns.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()
        super().tearDownClass()

    def test_check_accepts_spawn(self):
        r = self.inst.mailctl("check", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("policyd-spf_time_limit", r.stdout + r.stderr)

    def test_forged_sender_rejected(self):
        r = rcpt(self.inst.port, "forger@spf.test", source="127.0.0.8",
                 helo="forger.example.org")
        self.assertEqual(r.code, 550, r)
        self.assertTrue(r.text().startswith(
            "550 5.7.23 <%s>: Recipient address rejected: Message rejected "
            "due to: SPF fail - not authorized." % ALICE), r)

    def test_permitted_sender_passes(self):
        text = deliver(self, "good@spf.test", [ALICE], "token-spf",
                       source="127.0.0.7", helo="good.example.org")
        self.assertRegex(text, r"(?m)^Received-SPF: Pass \(mailfrom\) "
                         r"identity=mailfrom; client-ip=127\.0\.0\.7;")
        self.assertLess(text.index("Received-SPF:"), text.index("Received:"))

    def test_spawned_as_user(self):
        rcpt(self.inst.port, "who@spf.test", source="127.0.0.7")
        uid = pwd.getpwnam("policyd-spf").pw_uid
        spawn = [p for p in self.inst.pids("spawn")
                 if b"policyd-spf" in harness.read_file("/proc/%d/cmdline"
                                                        % p)]
        self.assertEqual(len(spawn), 1)

        def child():
            for d in os.listdir("/proc"):
                try:
                    with open("/proc/%s/stat" % d) as f:
                        st = f.read()
                    if int(st[st.rindex(")") + 2:].split()[1]) != spawn[0]:
                        continue
                    with open("/proc/%s/status" % d) as f:
                        for line in f:
                            if line.startswith("Uid:"):
                                return [int(x) for x in line.split()[1:]]
                except (OSError, ValueError):
                    continue
            return None

        # smtpd keeps the connection, so the program is still running
        uids = wait_for(child, 5)
        self.assertEqual(uids, [uid] * 4)

    def test_time_limit(self):
        off = self.inst.log_size()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(os.path.join(self.inst.queue, "private", "sleeper"))
        t = time.time()
        self.assertEqual(s.recv(10), b"")
        s.close()
        self.assertLess(time.time() - t, 5)
        self.inst.wait_log(r"/bin/sleep: process \d+ exceeded the time "
                           r"limit, killed", since=off)

    def test_check_refuses_bad_spawn(self):
        bad = [("user=root argv=/bin/true", "neither root nor mail_owner"),
               ("user=nobody argv=true", "absolute path"),
               ("user=nobody", "missing argv="),
               ("argv=/bin/true user=nobody", None),
               ("user=nobody bogus=1 argv=/bin/true", "unknown command "
                "attribute"),
               ("user=no-such-user-here argv=/bin/true", "unknown user")]
        d = tempfile.mkdtemp(prefix="youju-e2e-spawncheck-")
        try:
            shutil.copy(os.path.join(self.inst.dir, "main.cf"), d)
            open(os.path.join(d, "aliases"), "w").close()
            open(os.path.join(d, "users"), "w").close()
            for attrs, why in bad:
                with open(os.path.join(d, "master.cf"), "w") as f:
                    f.write("x unix - n n - 0 spawn %s\n" % attrs)
                r = subprocess.run([harness.mailctl_path(), "-c", d,
                                    "check"], capture_output=True,
                                   text=True, timeout=60,
                                   env=self.inst.daemon_env(log_path=True))
                out = r.stdout + r.stderr
                if why is None:     # argv= last: "user=nobody" is an arg
                    self.assertNotIn("service x", out, attrs)
                    continue
                self.assertNotEqual(r.returncode, 0, (attrs, out))
                self.assertIn("master.cf:1: service x: ", out)
                self.assertIn(why, out, attrs)
            with open(os.path.join(d, "main.cf"), "a") as f:
                f.write("smtpd_policy_service_default_action = 550\n")
            with open(os.path.join(d, "master.cf"), "w") as f:
                f.write("x unix - - n - 0 spawn user=nobody argv=/bin/true\n")
            r = subprocess.run([harness.mailctl_path(), "-c", d, "check"],
                               capture_output=True, text=True, timeout=60,
                               env=self.inst.daemon_env(log_path=True))
            self.assertIn("unpriv n and chroot n", r.stdout + r.stderr)
            self.assertRegex(r.stdout + r.stderr, r"main.cf:\d+: "
                             r"smtpd_policy_service_default_action: .*"
                             r"smtpd would not start")
        finally:
            shutil.rmtree(d, ignore_errors=True)
