"""harness.py - start real youju instances for end-to-end tests.

Each Instance is a self-contained configuration directory in /tmp with its
own queue, maillog, users file, aliases and a loopback SMTP port.  master
runs in the foreground as root (the real privilege drop and chroot), its
stderr and every child's go to DIR/stderr, where sanitizer reports are
looked for when the instance stops.  Daemons are stopped by pid only.
"""
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

BUILD = os.environ.get("YOUJU_BUILD", "")
SRC = os.environ.get("YOUJU_SRC", os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
PROGS = ["master", "smtpd", "qmgr", "local", "auth"]
MAIL_OWNER = "youju"
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


def mailctl_path():
    return os.path.join(BUILD, "mailctl", "mailctl")


class Instance:
    """A youju instance under test."""

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
        cfg = {
            "queue_directory": self.queue,
            "daemon_directory": self.bin,
            "mail_owner": MAIL_OWNER,
            "myhostname": "mx.example.com",
            "mydomain": "example.com",
            "mydestination": "example.com, localhost",
            "mynetworks": "127.0.0.0/8",
            "inet_interfaces": "127.0.0.1",
            "maillog_file": self.maillog,
            "home_mailbox": "Maildir/",
            "mailbox_base": os.path.join(self.dir, "vmail"),
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "queue_run_delay": "1s",
            "master_stop_timeout": "10s",
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
                f.write("%s:{PLAIN}secret:%d:%d::%s::\n" %
                        (u, self.uid, self.gid, self.home(u)))
        with open(os.path.join(self.dir, "aliases"), "w") as f:
            f.write(aliases)

    def home(self, user):
        return os.path.join(self.dir, "home", user.split("@")[0])

    def maildir(self, user):
        return os.path.join(self.home(user), "Maildir")

    # --- process control ---------------------------------------------
    def start(self, timeout=20):
        env = dict(os.environ)
        env.update({
            "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
            "UBSAN_OPTIONS": "print_stacktrace=1",
        })
        env.update(self.env)
        self.errf = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(self.bin, "master"), "-c", self.dir],
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
        return all(n in names for n in ("smtpd", "qmgr", "auth", "local"))

    def stop(self, timeout=30):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill_tree()
        self.proc = None
        self.errf.close()

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
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_errors(self):
        err = self.stderr()
        bad = [l for l in err.splitlines()
               if "ERROR: AddressSanitizer" in l or "runtime error:" in l
               or "ERROR: LeakSanitizer" in l]
        return bad

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # --- processes ---------------------------------------------------
    def procs(self):
        """master's children: pid, name (service program), uids, gids, root."""
        out = []
        if self.proc is None:
            return out
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
                ppid = int(st[st.rindex(")") + 2:].split()[1])
                if ppid != self.proc.pid:
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

    def mailctl(self, *args, check=True):
        r = subprocess.run([mailctl_path(), "-c", self.dir] + list(args),
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("mailctl %s: %s%s" % (args, r.stdout,
                                                    r.stderr))
        return r

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
