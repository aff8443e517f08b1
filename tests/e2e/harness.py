"""harness.py - start real youju instances for end-to-end tests.

Each Instance is a self-contained configuration directory in /tmp with its
own queue, maillog, users file, aliases and a loopback SMTP port.  master
runs in the foreground as root (the real privilege drop and chroot), its
stderr and every child's go to DIR/stderr, where sanitizer reports are
looked for when the instance stops.  Daemons are stopped by pid only.

The client side shared by the test files is here too: Conn (a raw SMTP
connection with a buffered reply reader) and Reply, InstanceTestCase (one
instance per class, checked at the end), and small helpers (qid_of,
wait_for, find_message, read_file, read_text).
"""
import glob
import os
import pwd
import queue as _queue
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
import unittest

BUILD = os.environ.get("YOUJU_BUILD", "")
SRC = os.environ.get("YOUJU_SRC", os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
PROGS = ["master", "smtpd", "qmgr", "local", "auth", "smtp", "anvil",
         "pickup", "spawn"]
MAIL_OWNER = "youju"
# every test user's password is PASSWORD; this is its SHA512-CRYPT hash as
# "doveadm pw -s SHA512-CRYPT -p secret" printed it
PASSWORD = "secret"
PASSWORD_HASH = ("{SHA512-CRYPT}$6$y2dB.gVMsQWk32XA$1hsrHwD12HJdB6h2eLCgjLTqce"
                 "ZdPb2L7PgX.q7neE3FDHMDEa7TQtPK.Ttk9WwS33P3tqr6GVvTChdhETQAo.")
TEST_USER = "youju-test"


def ensure_user(name):
    """Create a system user when missing; return (uid, gid)."""
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group",
                        "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", name], check=True)
        pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_cert(directory, name, cn="mx.example.com"):
    """A self-signed certificate and key: (cert path, key path)."""
    crt = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", crt, "-days", "30",
                        "-subj", "/CN=" + cn],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl req: %s" % r.stderr)
    os.chmod(key, 0o600)
    return crt, key


def mailctl_path():
    return os.path.join(BUILD, "mailctl", "mailctl")


def sendmail_path():
    return os.path.join(BUILD, "sendmail", "sendmail")


class Instance:
    """A youju instance under test.  `wrap` (a list, empty by default) is
    put in front of master's command line, e.g. a tracer that then execs
    master (its pid must become master's: strace -D does that)."""

    def __init__(self, main=None, master_extra="", users=None, aliases="",
                 port=None, env=None):
        self.dir = tempfile.mkdtemp(prefix="youju-e2e-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        for p in PROGS:
            os.symlink(os.path.join(BUILD, p, p), os.path.join(self.bin, p))
        self.queue = os.path.join(self.dir, "queue")
        self.maillog = os.path.join(self.dir, "maillog")
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.port = port or free_port()
        self.uid, self.gid = ensure_user(TEST_USER)
        ensure_user(MAIL_OWNER)
        self.proc = None
        self.env = env or {}
        self.wrap = []
        self.bg_pid = None          # master started by "mailctl start"
        self.mailctl_errors = []    # sanitizer lines printed by mailctl
        self.errf = None
        cfg = {
            "queue_directory": self.queue,
            "daemon_directory": self.bin,
            "mail_owner": MAIL_OWNER,
            "myhostname": "mx.example.com",
            "mydomain": "example.com",
            "mydestination": "example.com, localhost",
            # as in the shipped main.cf: alias targets without a domain
            # ("postmaster: alice") are completed with @$myorigin
            "myorigin": "example.com",
            "mynetworks": "127.0.0.0/8",
            "inet_interfaces": "127.0.0.1",
            "maillog_file": self.maillog,
            "home_mailbox": "Maildir/",
            "mailbox_base": os.path.join(self.dir, "vmail"),
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "queue_run_delay": "1s",
            "master_stop_timeout": "10s",
            # hermetic: no real DNS, and mail for other domains goes to a
            # relay that refuses connections, so it stays deferred unless a
            # test points relayhost or dns_server_address at its own peer
            "dns_server_address": "127.0.0.1:9",
            "relayhost": "[127.0.0.1]:9",
            # no DNS server answers there: each connection would wait for
            # the client name lookup to time out (test_clientname turns
            # it on, with its own DNS server)
            "smtpd_peername_lookup": "no",
        }
        cfg.update(main or {})
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            for k, v in cfg.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write("127.0.0.1:%d inet n - y - - smtpd\n" % self.port)
            f.write(master_extra)
        if users is None:
            users = ["alice@example.com", "bob@example.com"]
        with open(os.path.join(self.dir, "users"), "w") as f:
            for u in users:
                f.write("%s:%s:%d:%d::%s::\n" % (u, PASSWORD_HASH,
                        self.uid, self.gid, self.home(u)))
        with open(os.path.join(self.dir, "aliases"), "w") as f:
            f.write(aliases)

    def home(self, user):
        return os.path.join(self.dir, "home", user.split("@")[0])

    def maildir(self, user):
        return os.path.join(self.home(user), "Maildir")

    # --- process control ---------------------------------------------
    def daemon_env(self, log_path=False):
        """Environment for master (and so every daemon).  With log_path
        the sanitizers write to DIR/san.PID files (used when master runs
        detached from any stderr we could read, e.g. "mailctl start")."""
        env = dict(os.environ)
        asan = "detect_leaks=0:abort_on_error=1"
        ubsan = "print_stacktrace=1"
        if log_path:
            asan += ":log_path=" + os.path.join(self.dir, "san")
            ubsan += ":log_path=" + os.path.join(self.dir, "san")
        env.update({"ASAN_OPTIONS": asan, "UBSAN_OPTIONS": ubsan})
        env.update(self.env)
        return env

    def start(self, timeout=20):
        env = self.daemon_env()
        if self.errf is not None:
            self.errf.close()
        self.errf = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            self.wrap + [os.path.join(self.bin, "master"), "-c", self.dir],
            stdin=subprocess.DEVNULL, stdout=self.errf, stderr=self.errf,
            env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("master exited: %s" % self.stderr())
            if self.listening() and self.children_ready():
                return self
            time.sleep(0.05)
        raise RuntimeError("instance did not start: %s" % self.stderr())

    def listening(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), 0.5)
            s.close()
            return True
        except OSError:
            return False

    def children_ready(self):
        names = [p["name"] for p in self.procs()]
        return all(n in names for n in ("smtpd", "qmgr", "auth", "local",
                                        "smtp", "anvil", "pickup"))

    def stop(self, timeout=30):
        if self.proc is None:
            self.stop_background(timeout)
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill_tree()
        self.proc = None
        if self.errf is not None:
            self.errf.close()
            self.errf = None

    def kill_tree(self):
        """Last resort: SIGKILL master and its children, by pid."""
        pids = [p["pid"] for p in self.procs()]
        for pid in [self.proc.pid] + pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stderr(self):
        return read_text(self.stderr_path)

    def sanitizer_errors(self):
        err = self.stderr()
        for path in glob.glob(os.path.join(self.dir, "san.*")):
            err += "\n" + read_text(path)
        err += "\n" + "\n".join(self.mailctl_errors)
        bad = [l for l in err.splitlines()
               if "ERROR: AddressSanitizer" in l or "runtime error:" in l
               or "ERROR: LeakSanitizer" in l]
        return bad

    def log(self):
        return read_text(self.maillog)

    # --- processes ---------------------------------------------------
    def procs(self):
        """master's children: pid, name (service program), uids, gids, root."""
        out = []
        master = self.master_pid()
        if master is None:
            return out
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
                ppid = int(st[st.rindex(")") + 2:].split()[1])
                if ppid != master:
                    continue
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv = f.read().split(b"\0")
                info = {"pid": int(d),
                        "name": os.path.basename(argv[0].decode())}
                with open("/proc/%s/status" % d) as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            info["uids"] = [int(x) for x in line.split()[1:]]
                        elif line.startswith("Gid:"):
                            info["gids"] = [int(x) for x in line.split()[1:]]
                        elif line.startswith("Groups:"):
                            info["groups"] = [int(x) for x in
                                              line.split()[1:]]
                info["root"] = os.readlink("/proc/%s/root" % d)
                out.append(info)
            except (OSError, ValueError, IndexError):
                continue
        return out

    def pids(self, name):
        return [p["pid"] for p in self.procs() if p["name"] == name]

    def mailctl(self, *args, check=True, env=None, input=None):
        """Run mailctl -c DIR ARGS; with input (text) it is mailctl's
        stdin (e.g. for "user add --password-stdin"), else /dev/null."""
        extra = {"stdin": subprocess.DEVNULL} if input is None else \
            {"input": input}
        r = subprocess.run([mailctl_path(), "-c", self.dir] + list(args),
                           capture_output=True, text=True, timeout=90,
                           env=env or self.daemon_env(log_path=True),
                           **extra)
        self.mailctl_errors += [l for l in r.stderr.splitlines()
                                if "ERROR: AddressSanitizer" in l or
                                "runtime error:" in l or
                                "ERROR: LeakSanitizer" in l]
        if check and r.returncode != 0:
            raise RuntimeError("mailctl %s: %s%s" % (args, r.stdout,
                                                    r.stderr))
        return r


    def master_pid(self):
        """master's pid: our child, or the one "mailctl start" left."""
        if self.proc is not None:
            return self.proc.pid
        if self.bg_pid is not None and pid_alive(self.bg_pid):
            return self.bg_pid
        return None

    def pidfile_pid(self):
        """The pid in queue_directory/pid/master.pid, or None."""
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def mailctl_start(self, timeout=30):
        """Start as an admin would ("mailctl start"); returns the result.
        On success the master is remembered for procs() and stop()."""
        r = self.mailctl("start", check=False)
        if r.returncode == 0:
            self.bg_pid = self.pidfile_pid()
            deadline = time.time() + timeout
            while time.time() < deadline and not (
                    self.listening() and self.children_ready()):
                time.sleep(0.05)
        return r

    def stop_background(self, timeout=30):
        """Stop a master started by mailctl: SIGTERM by pid, then wait."""
        pid = self.bg_pid
        self.bg_pid = None
        if pid is None or not pid_alive(pid):
            return
        children = [p["pid"] for p in self._procs_of(pid)]
        os.kill(pid, signal.SIGTERM)
        if not wait_pid_gone(pid, timeout):
            for c in [pid] + children:
                try:
                    os.kill(c, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            wait_pid_gone(pid, 10)

    def _procs_of(self, master):
        saved = self.bg_pid, self.proc
        try:
            self.proc, self.bg_pid = None, master
            return self.procs()
        finally:
            self.bg_pid, self.proc = saved

    def wait_procs(self, pred, timeout=10):
        """Poll procs() until pred(procs) is true; return the last list."""
        deadline = time.time() + timeout
        while True:
            ps = self.procs()
            if pred(ps) or time.time() >= deadline:
                return ps
            time.sleep(0.05)

    def wait_settled(self, timeout=10):
        """Wait until every mail_owner daemon (smtpd, qmgr, auth, smtp,
        anvil, pickup) has
        finished its privilege drop (a just-forked child still shows
        master's root ids for a moment) and every child has read its
        configuration (has the maillog open)."""
        uid = pwd.getpwnam(MAIL_OWNER).pw_uid

        def ok(ps):
            names = [p["name"] for p in ps]
            if not all(n in names for n in ("smtpd", "qmgr", "auth",
                                             "local", "smtp", "anvil",
                                             "pickup")):
                return False
            return all(p["uids"][0] == uid for p in ps
                       if p["name"] in ("smtpd", "qmgr", "auth",
                                        "smtp", "anvil", "pickup")) and \
                all(self.has_maillog_open(p["pid"]) for p in ps)
        return self.wait_procs(ok, timeout)

    def has_maillog_open(self, pid):
        """A daemon opens maillog_file once it has read its configuration:
        before that it may still read main.cf (tests that rewrite main.cf
        wait for this)."""
        d = "/proc/%d/fd" % pid
        try:
            for fd in os.listdir(d):
                try:
                    if os.readlink(os.path.join(d, fd)) == self.maillog:
                        return True
                except OSError:
                    continue
        except OSError:
            pass
        return False

    def wait_new_pid(self, name, old, timeout=3):
        """Wait until a process `name` exists whose pid is not in old;
        return its pid or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            new = [p for p in self.pids(name) if p not in old]
            if new:
                return new[0]
            time.sleep(0.02)
        return None

    def log_size(self):
        try:
            return os.path.getsize(self.maillog)
        except OSError:
            return 0

    def log_since(self, offset):
        return self.log()[offset:]

    def wait_log(self, pattern, timeout=10, since=0):
        """Wait for a regular expression in the maillog (from byte
        offset `since`); return the match or None."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.log()[since:])
            if m or time.time() >= deadline:
                return m
            time.sleep(0.05)

    def set_main(self, **params):
        """Change (or add) main.cf parameters."""
        path = os.path.join(self.dir, "main.cf")
        with open(path) as f:
            lines = f.read().splitlines()
        out = []
        for line in lines:
            name = line.split("=", 1)[0].strip()
            if name in params:
                continue
            out.append(line)
        for k, v in params.items():
            out.append("%s = %s" % (k, v))
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")

    def incoming_files(self):
        d = os.path.join(self.queue, "incoming")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def message_ids(self, user):
        """Message-ID header values of every delivered message."""
        ids = []
        for path in self.messages(user):
            mid = message_id_of(path)
            if mid is not None:
                ids.append(mid)
        return ids

    # --- mail --------------------------------------------------------
    def smtp(self, timeout=30):
        return smtplib.SMTP("127.0.0.1", self.port, timeout=timeout)

    def messages(self, user):
        """Delivered files (new/ and cur/) of a user's Maildir."""
        files = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir(user), sub)
            if os.path.isdir(d):
                files += [os.path.join(d, n) for n in sorted(os.listdir(d))]
        return files

    def wait_messages(self, user, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.messages(user)
            if len(got) >= n:
                return got
            time.sleep(0.05)
        return self.messages(user)

    def queue_files(self):
        found = []
        for root, _dirs, files in os.walk(os.path.join(self.queue, "queue")):
            found += [os.path.join(root, f) for f in files]
        return found

    def wait_queue_empty(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.queue_files():
                return True
            time.sleep(0.05)
        return False


class Reply:
    """One complete SMTP reply: code and the lines of its text."""

    def __init__(self, lines):
        self.lines = lines
        self.code = int(lines[-1][:3]) if lines[-1][:3].isdigit() else 0
        self.last = lines[-1]

    def text(self):
        return "\n".join(self.lines)

    def ext(self):
        """EHLO keywords (upper case), without the first line."""
        return [l[4:].upper() for l in self.lines[1:]]

    def __repr__(self):
        return "Reply(%r)" % self.text()


class Conn:
    """A raw SMTP client connection (optionally from a source address) with
    a buffered reply reader: it keeps its own input buffer, so replies that
    arrive together in one segment are never lost or merged.  A subclass
    may set the socket up further in prepare() (before the greeting)."""

    def __init__(self, port, source=None, timeout=10, greet=True):
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout,
            source_address=(source, 0) if source else None)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.prepare()
        self.greeting = self.reply() if greet else None

    def prepare(self):
        """Hook: called once connected, before the greeting is read."""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection; buffer %r" %
                           self.buf)
        self.buf += chunk

    def reply(self):
        """Read one (possibly multi-line) reply; EOFError if closed."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("latin-1"))
            if len(line) < 4 or line[3:4] != b"-":
                return Reply(lines)

    def cmd(self, line):
        """Send one command line (CRLF added) and read its reply."""
        if isinstance(line, str):
            line = line.encode("latin-1")
        self.send(line + b"\r\n")
        return self.reply()

    def ehlo(self, name="client.example.org"):
        r = self.cmd("EHLO " + name)
        if r.code != 250:
            raise AssertionError("EHLO: %r" % r)
        return r

    def rest_until_close(self, timeout=10):
        """All remaining reply lines until the server closes."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("server did not close; got %r" %
                                     self.buf)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            self.buf += chunk
        data, self.buf = self.buf, b""
        return [l.decode("latin-1") for l in data.split(b"\r\n") if l]

    def closed(self, timeout=5):
        """True when the server closes the connection (EOF) in time."""
        try:
            return self.rest_until_close(timeout) == []
        except AssertionError:
            return False


class InstanceTestCase(unittest.TestCase):
    """One instance per class: the subclass's setUpClass makes cls.inst
    and starts it; tearDownClass stops and removes it and fails when a
    daemon produced a sanitizer report or died on a signal it was not
    sent by a test (EXPECTED_KILLS: programs a test kills on purpose)."""

    EXPECTED_KILLS = ()
    inst = None

    @classmethod
    def tearDownClass(cls):
        inst = cls.inst
        inst.stop()
        errs = inst.sanitizer_errors()
        crashed = [l for l in inst.log().splitlines()
                   if "killed by signal" in l and not any(
                       re.search(r"\b%s\b" % k, l)
                       for k in cls.EXPECTED_KILLS)]
        stderr = inst.stderr()
        inst.cleanup()
        if errs or crashed:
            raise AssertionError("%s: daemon errors:\n%s\n%s\n--- stderr\n%s"
                                 % (cls.__name__, "\n".join(errs),
                                    "\n".join(crashed), stderr[-6000:]))

    def open_txn(self, c, sender, rcpts):
        """MAIL + RCPT each (all must be 250) + DATA (354)."""
        r = c.cmd("MAIL FROM:<%s>" % sender)
        self.assertEqual(r.code, 250, r)
        for rc in rcpts:
            r = c.cmd("RCPT TO:<%s>" % rc)
            self.assertEqual(r.code, 250, (rc, r))
        r = c.cmd("DATA")
        self.assertEqual(r.code, 354, r)


def raw_session(port, host="127.0.0.1", timeout=10):
    """A plain socket with the 220 greeting read."""
    s = socket.create_connection((host, port), timeout)
    s.settimeout(timeout)
    read_reply(s)
    return s


def read_reply(s):
    """Read one complete (possibly multi-line) SMTP reply; return text."""
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data.decode("latin-1")
        data += chunk
        lines = data.split(b"\r\n")
        complete = lines[:-1]
        if complete and len(complete[-1]) >= 4 and complete[-1][3:4] == b" ":
            return data.decode("latin-1")


def read_replies(s, n):
    """Read n replies (pipelining)."""
    out = []
    buf = b""
    while len(out) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            cur = line.decode("latin-1")
            if len(cur) >= 4 and cur[3] == "-":
                continue
            out.append(cur)
    return out


# --- helpers ----------------------------------------------------------

def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def read_text(path):
    """A text file's contents ("" when it cannot be read)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def wait_for(fn, timeout=15, step=0.05):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


def qid_of(text):
    """The queue id from "250 2.0.0 Ok: queued as QID"."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    m = re.search(r"queued as ([A-Za-z0-9]+)", text)
    if m is None:
        raise AssertionError("no queue id in %r" % text)
    return m.group(1)


def find_message(inst, user, token, timeout=15):
    """The Maildir file of user that contains token (bytes), or None."""
    def look():
        for p in inst.messages(user):
            try:
                if token in read_file(p):
                    return p
            except OSError:
                pass
        return None
    return wait_for(look, timeout)


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rindex(")") + 2:].split()[0] != "Z"


def wait_pid_gone(pid, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


_MID_RX = re.compile(rb"^Message-ID:[ \t]*<([^>\r\n]*)>", re.I | re.M)


def message_id_of(path):
    """The Message-ID of a delivered file (header block only)."""
    try:
        with open(path, "rb") as f:
            data = f.read(65536)
    except OSError:
        return None
    head = data.split(b"\n\n", 1)[0]
    m = _MID_RX.search(head)
    return m.group(1).decode("latin-1") if m else None


def make_message(mid, sender="load@client.example", rcpt="alice@example.com",
                 body="load test\r\n"):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
            "Message-ID: <%s>\r\n\r\n%s" % (sender, rcpt, mid, mid, body))


class Load:
    """Send n messages (unique Message-IDs) over `conns` concurrent SMTP
    connections with smtplib.  A message counts as acknowledged only when
    its DATA got 250; any other outcome (4xx, a dropped connection, a
    refused connect) puts it back to be sent again on a new connection,
    as a real client would.  `acked` (set of Message-IDs) grows as the 250s
    come in; `attempts` counts DATA attempts that got no 250."""

    def __init__(self, inst, n, conns=10, rcpt="alice@example.com",
                 tag=None, deadline=90):
        self.inst = inst
        self.rcpt = rcpt
        self.tag = tag or "%x" % int(time.time() * 1000)
        self.ids = ["%s.%d@load.example" % (self.tag, i) for i in range(n)]
        self.todo = _queue.Queue()
        for mid in self.ids:
            self.todo.put(mid)
        self.acked = set()
        self.retries = 0
        self.errors = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.deadline = time.time() + deadline
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(conns)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def n_acked(self):
        with self.lock:
            return len(self.acked)

    def _run(self):
        conn = None
        while time.time() < self.deadline:
            with self.lock:
                if len(self.acked) == len(self.ids):
                    break
            try:
                mid = self.todo.get(timeout=0.2)
            except _queue.Empty:
                continue
            try:
                if conn is None:
                    conn = smtplib.SMTP("127.0.0.1", self.inst.port,
                                        timeout=20)
                    conn.ehlo("load.client.example")
                conn.sendmail("load@client.example", [self.rcpt],
                              make_message(mid, rcpt=self.rcpt))
                with self.lock:
                    self.acked.add(mid)
            except (smtplib.SMTPException, OSError) as e:
                with self.lock:
                    self.retries += 1
                    if len(self.errors) < 50:
                        self.errors.append("%s: %r" % (mid, e))
                self.todo.put(mid)
                try:
                    if conn is not None:
                        conn.close()
                except Exception:
                    pass
                conn = None
                time.sleep(0.05)
        if conn is not None:
            try:
                conn.quit()
            except Exception:
                try:
                    conn.close()
                except Exception:
                    pass

    def wait(self, timeout=None):
        for t in self.threads:
            t.join(None if timeout is None else
                   max(0.1, timeout))
        return self.n_acked() == len(self.ids)
