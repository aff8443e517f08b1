"""test_service.py - running under systemd (issue 12, item 2).

The readiness protocol is systemd's sd_notify: the test binds the
datagram socket systemd would and starts master with NOTIFY_SOCKET set.
master must say READY=1 only when its listener answers, RELOADING=1 and
READY=1 around "mailctl reload" (and around a reload that fails), and
STOPPING=1 when a stop begins; no child may see NOTIFY_SOCKET (systemd
listens to master alone).  "make install DESTDIR=..." puts the unit where
configure said, the unit passes "systemd-analyze verify" (with its paths
moved under DESTDIR), and no installed file is set-uid or set-gid.  The
logrotate snippet parses with Debian's logrotate.  The unit is not
started under a real systemd here (systemd is not PID 1 on the test
machines); what systemd would see of master is the notify socket above.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import Instance


def built_with_libsystemd():
    """Did configure find libsystemd (the unit says Type=notify)?"""
    unit = os.path.join(harness.BUILD, "youju.service")
    with open(unit) as f:
        return "Type=notify\n" in f.read()


class NotifyTest(harness.InstanceTestCase):

    @classmethod
    def setUpClass(cls):
        if not built_with_libsystemd():
            raise unittest.SkipTest("built without libsystemd")
        cls.sockdir = tempfile.mkdtemp(prefix="youju-e2e-notify-")
        cls.path = os.path.join(cls.sockdir, "notify")
        cls.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        cls.sock.bind(cls.path)
        cls.sock.settimeout(0.2)
        cls.inst = Instance(env={"NOTIFY_SOCKET": cls.path})
        cls.inst.start()
        cls.inst.wait_settled()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.sock.close()
            shutil.rmtree(cls.sockdir, ignore_errors=True)

    def messages(self, want, timeout=10):
        """Datagrams until one holds want; all of them, in order."""
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                got.append(self.sock.recv(4096).decode())
            except socket.timeout:
                continue
            if want in got[-1]:
                break
        return got

    def test_1_ready_after_listening_children_silent(self):
        # sent during start (before setUpClass returned): waiting in the
        # socket; the instance was listening when start() returned
        got = self.messages("READY=1", 2)
        self.assertTrue(got and "READY=1" in got[-1], got)
        self.assertIn("STATUS=accepting mail", got[-1])
        for p in self.inst.procs():
            if p["pid"] == self.inst.proc.pid:
                continue
            try:
                with open("/proc/%d/environ" % p["pid"], "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            self.assertFalse(any(e.startswith(b"NOTIFY_SOCKET=")
                                 for e in env), p)

    def test_2_reload_and_failed_reload(self):
        self.messages("READY=1", 0.5)       # drain
        self.inst.mailctl("reload")
        got = self.messages("READY=1")
        self.assertEqual([g.split("\n")[0] for g in got][-2:],
                         ["RELOADING=1", "READY=1"], got)
        self.inst.set_main(message_size_limit="garbage")
        try:
            os.kill(self.inst.master_pid(), signal.SIGHUP)
            got = self.messages("READY=1")
            self.assertIn("RELOADING=1", got[0])
            self.assertIn("STATUS=reload failed, old configuration kept",
                          got[-1])
        finally:
            self.inst.set_main(message_size_limit="10240000")

    def test_3_stopping(self):
        self.inst.proc.send_signal(signal.SIGTERM)
        got = self.messages("STOPPING=1")
        self.assertTrue(got and "STOPPING=1" in got[-1], got)
        self.inst.proc.wait(20)
        # started again: the moment READY=1 comes, a client gets in
        t = threading.Thread(target=self.inst.start)
        t.start()
        try:
            got = self.messages("READY=1", 20)
            self.assertIn("READY=1", got[-1])
            c = socket.create_connection(("127.0.0.1", self.inst.port), 2)
            c.settimeout(5)
            self.assertTrue(c.recv(512).startswith(b"220"))
            c.close()
        finally:
            t.join(30)


class InstallTest(unittest.TestCase):
    """make install into a DESTDIR: the unit, no set-id bits."""

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="youju-e2e-install-")
        r = subprocess.run(["make", "-s", "-C", harness.BUILD, "install",
                            "DESTDIR=" + cls.dest], capture_output=True,
                           text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError("make install: %s" % r.stderr[-3000:])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def files(self):
        for root, dirs, names in os.walk(self.dest):
            for n in names:
                yield os.path.join(root, n)

    def test_no_setuid_or_setgid(self):
        n = 0
        for p in self.files():
            st = os.lstat(p)
            n += 1
            self.assertFalse(st.st_mode & 0o6000, "%s is mode %o" %
                             (p, st.st_mode))
        self.assertGreater(n, 10)
        self.assertTrue(os.path.exists(os.path.join(
            self.dest, "usr/local/libexec/youju/master")))

    def test_unit_installed_and_verified(self):
        units = [p for p in self.files() if p.endswith("/youju.service")]
        self.assertEqual(len(units), 1, units)
        with open(units[0]) as f:
            unit = f.read()
        for line in ("ExecStart=/usr/local/libexec/youju/master -c "
                     "/usr/local/etc/youju",
                     "ExecReload=/usr/local/sbin/mailctl -c "
                     "/usr/local/etc/youju reload",
                     "KillMode=mixed", "NotifyAccess=main"):
            self.assertIn(line + "\n", unit)
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")
        # the same unit with its paths under DESTDIR, so verify finds
        # the programs and the man pages it names
        moved = os.path.join(self.dest, "youju.service")
        with open(moved, "w") as f:
            f.write(unit.replace("/usr/local", self.dest + "/usr/local"))
        env = dict(os.environ, MANPATH=self.dest + "/usr/local/share/man:")
        r = subprocess.run(["systemd-analyze", "verify", moved],
                           capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
        # and it does complain about a broken one
        with open(moved, "w") as f:
            f.write(unit.replace("/usr/local", self.dest + "/usr/local")
                    .replace("KillMode=mixed", "KillMode=sometimes"))
        r = subprocess.run(["systemd-analyze", "verify", moved],
                           capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertIn("Failed to parse kill mode", r.stderr)


class LogrotateTest(harness.InstanceTestCase):
    """etc/youju.logrotate, run for real by Debian's logrotate on a
    running instance's maillog_file: the old lines are in the copy, and
    the daemons go on writing at the start of the truncated file (they
    append: no hole of NUL bytes where the old lines were)."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("logrotate") is None:
            raise unittest.SkipTest("logrotate is not installed")
        cls.inst = Instance()
        cls.inst.start()
        cls.inst.wait_settled()

    def test_rotation_while_running(self):
        inst = self.inst
        conf = os.path.join(inst.dir, "logrotate.conf")
        with open(os.path.join(harness.SRC, "etc", "youju.logrotate")) as f:
            text = f.read()
        self.assertIn("/var/log/youju.log {", text)
        with open(conf, "w") as f:
            f.write(text.replace("/var/log/youju.log", inst.maillog))
        before = os.path.getsize(inst.maillog)
        self.assertGreater(before, 0)
        r = subprocess.run(["logrotate", "-f", "-s", os.path.join(
            inst.dir, "logrotate.state"), conf], capture_output=True,
            text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(inst.maillog + ".1", "rb") as f:
            self.assertIn(b"daemon started", f.read())
        self.assertLess(os.path.getsize(inst.maillog), before)
        with harness.Conn(inst.port) as c:
            c.ehlo()
        self.assertIsNotNone(inst.wait_log(r"disconnect from", 10))
        with open(inst.maillog, "rb") as f:
            data = f.read()
        self.assertNotIn(b"\0", data)
        self.assertRegex(data.decode(), r"^\w{3} [ \d]\d [\d:]{8} \S+ "
                         r"youju/smtpd\[\d+\]: connect from")
