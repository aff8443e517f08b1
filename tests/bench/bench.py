#!/usr/bin/python3
"""bench.py - youju against Postfix on this machine, in one run.

Both servers are started here, configured alike (loopback listener, one
local Maildir recipient, Postfix's compiled-in durability: fsync before
250, Maildir fsync), and driven in turns by Postfix's smtp-source: N
messages of L bytes over S sessions.  For each run:
  accept  = N / time until smtp-source has every 250
  e2e     = N / time until N new files are in the recipient's Maildir
Results are medians over the rounds; the ratio is youju / Postfix.
Then 1000 idle sessions are opened against youju (EHLO sent) and the RSS of
master and all its children is summed while they are held.

The dkim part runs relay and submission with DKIM signing off and on:
youju with an RSA-2048 key, and with RSA-2048 + Ed25519 (two signatures,
what "mailctl dkim keygen" makes), beside Postfix without and with
OpenDKIM as its milter (the same RSA-2048 key).  Besides the rates it
reports the CPU time per message of each server's whole process tree
(master and children, Dovecot and OpenDKIM included for Postfix), from
/proc: utime + stime of the live processes plus what the reaped ones left
in their parents' cutime + cstime.

Only loopback addresses are used; every loop is bounded in count and time.
Run as root: tests/bench/run (which builds youju first).
"""
import argparse
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = "/var/tmp/youju-bench"
AUTH_PASSWORD = "benchpw"
SINKPORT = 2790
MILTERPORT = 2791
DKIM_DOMAIN = "bench.test"
# SHA512-CRYPT of AUTH_PASSWORD (doveadm pw -s SHA512-CRYPT): the same
# scheme and cost for youju's broker and for Dovecot behind Postfix
AUTH_HASH = ("{SHA512-CRYPT}$6$MbSnBq3uJB9KLt1y$caZADzrpIfB/jmpD3qCvVTLhbr/2"
             "MuT3VWTT8R9IUudl8K5wOeb/hB/je2uVckg9CwkjRoZj.sGZyy3KYZTp.0")


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, **kw)


def ensure_user(name, home):
    try:
        pwd.getpwnam(name)
    except KeyError:
        sh("useradd", "--system", "--user-group", "--no-create-home",
           "--home-dir", home, "--shell", "/usr/sbin/nologin", name)
    sh("usermod", "-d", home, name, stderr=subprocess.DEVNULL)
    os.makedirs(home, exist_ok=True)
    pw = pwd.getpwnam(name)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    os.chmod(home, 0o700)
    return pw


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nothing listens on port %d" % port)


def count(maildir):
    n = 0
    for sub in ("new", "cur"):
        try:
            n += len(os.listdir(os.path.join(maildir, sub)))
        except FileNotFoundError:
            pass
    return n


class Youju:
    name = "youju"

    def __init__(self, build, port):
        self.build = build
        self.port = port
        self.subport = port + 10
        self.dir = os.path.join(BASE, "youju")
        self.user = ensure_user("ybench", os.path.join(BASE, "home",
                                                       "ybench"))
        self.maildir = os.path.join(self.user.pw_dir, "Maildir")
        self.proc = None
        self.dkim = None        # None, "rsa" or "dual"

    def setup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "bin"))
        for p in ("master", "smtpd", "qmgr", "local", "auth", "smtp",
                  "anvil", "pickup"):
            os.symlink(os.path.join(self.build, p, p),
                       os.path.join(self.dir, "bin", p))
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write("""myhostname = bench-youju.test
mydomain = bench.test
mydestination = bench.test
inet_interfaces = 127.0.0.1
mynetworks = 127.0.0.0/8
home_mailbox = Maildir/
queue_directory = %s/queue
daemon_directory = %s/bin
maillog_file = %s/maillog
mail_owner = youju
relayhost = [127.0.0.1]:%d
dns_server_address = 127.0.0.1:9
""" % (self.dir, self.dir, self.dir, SINKPORT))
            f.write("smtpd_tls_cert_file = %s/cert.pem\n"
                    "smtpd_tls_key_file = %s/key.pem\n" % (BASE, BASE))
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write("127.0.0.1:%d inet n - y - - smtpd\n" % self.port)
            f.write("127.0.0.1:%d inet n - y - - smtpd "
                    "-o smtpd_tls_security_level=encrypt "
                    "-o smtpd_sasl_auth_enable=yes "
                    "-o smtpd_recipient_restrictions="
                    "permit_sasl_authenticated,reject\n" % self.subport)
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write("ybench@bench.test:%s:%d:%d::%s::\n"
                    % (AUTH_HASH, self.user.pw_uid, self.user.pw_gid,
                       self.user.pw_dir))
        open(os.path.join(self.dir, "aliases"), "w").close()

    def start(self):
        # the keys youju signs with: $config_directory/dkim/DOMAIN/SEL.key
        kdir = os.path.join(self.dir, "dkim")
        shutil.rmtree(kdir, ignore_errors=True)
        if self.dkim:
            d = os.path.join(kdir, DKIM_DOMAIN)
            os.makedirs(d, mode=0o700)
            for sel in (("brsa", "bed") if self.dkim == "dual" else
                        ("brsa",)):
                shutil.copy(os.path.join(BASE, "dkim", sel + ".key"), d)
                os.chmod(os.path.join(d, sel + ".key"), 0o600)
        self.proc = subprocess.Popen(
            [os.path.join(self.dir, "bin", "master"), "-c", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        time.sleep(0.5)

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def rcpt(self):
        return "ybench@bench.test"

    def root_pid(self):
        return self.proc.pid

    def roots(self):
        return [self.proc.pid]


class Postfix:
    name = "postfix"

    def __init__(self, port):
        self.port = port
        self.subport = port + 10
        self.dove = None
        self.dir = os.path.join(BASE, "postfix")
        self.user = ensure_user("pbench", os.path.join(BASE, "home",
                                                       "pbench"))
        self.maildir = os.path.join(self.user.pw_dir, "Maildir")
        self.dkim = None        # None or "rsa" (OpenDKIM as the milter)
        self.milter = None

    def setup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "etc"))
        os.makedirs(os.path.join(self.dir, "data"))
        os.makedirs(os.path.join(self.dir, "queue"))
        shutil.chown(os.path.join(self.dir, "data"), "postfix")
        with open(os.path.join(self.dir, "etc", "main.cf"), "w") as f:
            f.write("""compatibility_level = 3.6
queue_directory = %(d)s/queue
data_directory = %(d)s/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench-postfix.test
mydomain = bench.test
myorigin = bench.test
mydestination = bench.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
home_mailbox = Maildir/
alias_maps =
alias_database =
local_recipient_maps = unix:passwd.byname
smtp_dns_support_level = disabled
maillog_file = %(d)s/maillog
biff = no
smtputf8_enable = no
relayhost = [127.0.0.1]:%(sink)d
smtpd_tls_cert_file = %(b)s/cert.pem
smtpd_tls_key_file = %(b)s/key.pem
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
""" % {"d": self.dir, "b": BASE, "sink": SINKPORT})
        with open(os.path.join(self.dir, "etc", "master.cf"), "w") as f:
            f.write("""127.0.0.1:%d inet n - n - - smtpd
127.0.0.1:%d inet n - n - - smtpd -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
tlsmgr unix - - n 1000? 1 tlsmgr
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
""" % (self.port, self.subport))
        # Dovecot's auth service answers Postfix's SASL questions
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write("pbench@bench.test:%s\n" % AUTH_HASH)
        with open(os.path.join(self.dir, "dovecot.conf"), "w") as f:
            f.write("""base_dir = %(d)s/dovecot-run
state_dir = %(d)s/dovecot-state
log_path = %(d)s/dovecot.log
protocols =
ssl = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = %(d)s/users
}
userdb {
  driver = static
  args = uid=postfix gid=postfix home=/nonexistent
}
service auth {
  unix_listener %(d)s/queue/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
""" % {"d": self.dir})
        subprocess.run(["postfix", "-c", os.path.join(self.dir, "etc"),
                        "check"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def start(self):
        etc = os.path.join(self.dir, "etc")
        milter = "inet:127.0.0.1:%d" % MILTERPORT if self.dkim else ""
        sh("postconf", "-c", etc, "-e", "smtpd_milters = " + milter,
           "non_smtpd_milters = " + milter,
           "milter_default_action = tempfail")
        if self.dkim:
            self.milter = start_opendkim()
        sh("postfix", "-c", etc, "start",
           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.dove = subprocess.Popen(
            ["dovecot", "-F", "-c", os.path.join(self.dir, "dovecot.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        time.sleep(0.5)

    def stop(self):
        subprocess.run(["postfix", "-c", os.path.join(self.dir, "etc"),
                        "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if self.dove is not None:
            self.dove.terminate()
            self.dove.wait(30)
            self.dove = None
        if self.milter is not None:
            self.milter.terminate()
            self.milter.wait(30)
            self.milter = None
        time.sleep(1)

    def rcpt(self):
        return "pbench@bench.test"

    def root_pid(self):
        with open(os.path.join(self.dir, "queue", "pid",
                               "master.pid")) as f:
            return int(f.read().strip())

    def roots(self):
        return [self.root_pid()] + [p.pid for p in (self.dove, self.milter)
                                    if p is not None]


def make_dkim_keys():
    """BASE/dkim/brsa.key (RSA-2048) and bed.key (Ed25519), made once."""
    d = os.path.join(BASE, "dkim")
    os.makedirs(d, mode=0o700, exist_ok=True)
    for sel, args in (("brsa", ["-algorithm", "RSA", "-pkeyopt",
                                "rsa_keygen_bits:2048"]),
                      ("bed", ["-algorithm", "ED25519"])):
        path = os.path.join(d, sel + ".key")
        if not os.path.exists(path):
            sh("openssl", "genpkey", *args, "-out", path,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(path, 0o600)


def start_opendkim():
    """OpenDKIM in the foreground as Postfix's signing milter, with the
    RSA key youju uses: relaxed/relaxed, From over-signed."""
    # OpenDKIM refuses a configuration or key below a directory others
    # may write (/var/tmp): its files go to a root-only directory in /run
    d = "/run/youju-bench-opendkim"
    os.makedirs(d, mode=0o755, exist_ok=True)
    key = os.path.join(d, "brsa.key")
    shutil.copy(os.path.join(BASE, "dkim", "brsa.key"), key)
    shutil.chown(key, "opendkim", "opendkim")
    os.chmod(key, 0o600)
    conf = os.path.join(d, "opendkim.conf")
    with open(conf, "w") as f:
        f.write("""Syslog no
Mode s
Domain %s
Selector brsa
KeyFile %s
Socket inet:%d@127.0.0.1
Canonicalization relaxed/relaxed
SignatureAlgorithm rsa-sha256
OversignHeaders From
InternalHosts 127.0.0.0/8
UserID opendkim
""" % (DKIM_DOMAIN, key, MILTERPORT))
    p = subprocess.Popen(["opendkim", "-f", "-x", conf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(MILTERPORT)
    return p


def tree_cpu(roots):
    """CPU seconds of the process trees under roots: utime + stime of the
    live processes, plus cutime + cstime (what their reaped children
    used)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for root in roots:
        for pid in tree_pids(root):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    st = f.read()
            except OSError:
                continue
            v = st[st.rindex(")") + 2:].split()
            total += sum(int(x) for x in v[11:15])
    return total / tick


def load(mta, sessions, msgs, size, reuse, timeout=300):
    """One smtp-source run; returns (accept rate, e2e rate, delivered)."""
    base = count(mta.maildir)
    cmd = ["smtp-source", "-s", str(sessions), "-m", str(msgs), "-l",
           str(size), "-f", "a@bench.test", "-t", mta.rcpt()]
    if reuse:
        cmd.insert(1, "-d")
    cmd.append("127.0.0.1:%d" % mta.port)
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=timeout)
    t1 = time.time()
    accept = msgs / (t1 - t0) if r.returncode == 0 else float("nan")
    deadline = t0 + timeout
    while count(mta.maildir) - base < msgs and time.time() < deadline:
        time.sleep(0.02)
    t2 = time.time()
    got = count(mta.maildir) - base
    return accept, got / (t2 - t0), got


class Sink:
    """Postfix's smtp-sink as the remote side of the relay test."""

    def __init__(self):
        self.out = os.path.join(BASE, "sink.out")
        self.proc = None

    def start(self):
        self.f = open(self.out, "wb")
        self.proc = subprocess.Popen(
            ["smtp-sink", "-c", "-u", "nobody", "127.0.0.1:%d" % SINKPORT,
             "1000"], stdout=self.f, stderr=subprocess.DEVNULL)
        wait_port(SINKPORT)

    def count(self):
        with open(self.out, "rb") as f:
            data = f.read().replace(b"\r", b"\n")
        n = 0
        for tok in data.split():
            if tok.startswith(b"mesg="):
                n = int(tok[5:] or 0)
        return n

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.f.close()
            self.proc = None


def relay_load(mta, sink, sessions, msgs, size, timeout=600):
    """smtp-source to a remote address: accepted, and relayed to the sink."""
    base = sink.count()
    cmd = ["smtp-source", "-d", "-s", str(sessions), "-m", str(msgs), "-l",
           str(size), "-f", "a@bench.test", "-t", "x@remote.test",
           "127.0.0.1:%d" % mta.port]
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=timeout)
    t1 = time.time()
    while sink.count() - base < msgs and time.time() < t0 + timeout:
        time.sleep(0.05)
    t2 = time.time()
    got = sink.count() - base
    accept = msgs / (t1 - t0) if r.returncode == 0 else float("nan")
    return accept, got / (t2 - t0), got


def sub_worker(args):
    """One process: n sessions of STARTTLS + AUTH PLAIN + one message."""
    import smtplib
    import ssl
    port, user, n, size = args
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    body = ("From: <%s>\r\nSubject: bench\r\n\r\n" % user +
            ("x" * 76 + "\r\n") * (size // 78))
    ok = 0
    for _ in range(n):
        try:
            c = smtplib.SMTP("127.0.0.1", port, timeout=60)
            c.starttls(context=ctx)
            c.login(user, AUTH_PASSWORD)
            c.sendmail(user, [user], body)
            c.quit()
            ok += 1
        except (OSError, smtplib.SMTPException):
            pass
    return ok


def sub_load(mta, procs, msgs, size, timeout=600):
    """Submission: procs client processes, msgs messages in all."""
    import multiprocessing
    base = count(mta.maildir)
    per = msgs // procs
    t0 = time.time()
    with multiprocessing.Pool(procs) as pool:
        oks = pool.map(sub_worker, [(mta.subport, mta.rcpt(), per, size)] *
                       procs)
    t1 = time.time()
    done = sum(oks)
    while count(mta.maildir) - base < done and time.time() < t0 + timeout:
        time.sleep(0.02)
    t2 = time.time()
    got = count(mta.maildir) - base
    return done / (t1 - t0), got / (t2 - t0), got


def mem_tree(root):
    """RSS and PSS (KiB) of root and its descendants, and the RSS of the
    smtpd processes alone."""
    rss, pss, smtpd = 0, 0, 0
    for pid in tree_pids(root):
        try:
            with open("/proc/%d/status" % pid) as f:
                r = [int(l.split()[1]) for l in f if l.startswith("VmRSS:")]
            with open("/proc/%d/smaps_rollup" % pid) as f:
                p = [int(l.split()[1]) for l in f if l.startswith("Pss:")]
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                name = os.path.basename(f.read().split(b"\0")[0])
        except OSError:
            continue
        rss += sum(r)
        pss += sum(p)
        if name == b"smtpd":
            smtpd += sum(r)
    return rss, pss, smtpd


def tree_pids(root):
    """root and its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
                kids.setdefault(int(st[st.rindex(")") + 2:].split()[1]),
                                []).append(int(d))
            except (OSError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


def idle_sessions(mta, n, hold=3.0, timeout=60):
    """Open n sessions (EHLO each), hold them; returns (ok, rss KiB)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n + 100), hard))
    socks, ok = [], 0
    deadline = time.time() + timeout
    for _ in range(n):
        if time.time() > deadline:
            break
        try:
            s = socket.create_connection(("127.0.0.1", mta.port), 10)
            socks.append(s)
        except OSError:
            break
    for s in socks:
        try:
            s.settimeout(max(0.1, deadline - time.time()))
            if s.recv(512).startswith(b"220"):
                s.sendall(b"EHLO bench.test\r\n")
                if s.recv(4096).startswith(b"250"):
                    ok += 1
        except OSError:
            pass
    time.sleep(hold)
    rss = mem_tree(mta.root_pid())
    for s in socks:
        s.close()
    return ok, rss


def bench_inbound(mtas, args, res):
    """Inbound mail into the Maildir, three load shapes."""
    variants = [  # sessions, messages, size, connection reuse
        (20, 2000, 10240, False),
        (20, 5000, 10240, True),
        (1, 200, 10240, False),
    ]
    if args.quick:
        variants = [(20, 500, 10240, True)]
    for rnd in range(args.rounds):
        for v in variants:
            for m in mtas:
                m.start()
                a, e, got = load(m, *v)
                m.stop()
                res.setdefault((v, m.name), []).append((a, e, got))
                print("# round %d %s s=%d m=%d l=%d reuse=%s: accept "
                      "%.0f/s e2e %.0f/s delivered %d" %
                      (rnd + 1, m.name, v[0], v[1], v[2], v[3], a, e,
                       got), flush=True)
    print("\n| sessions | msgs | size | reuse | postfix accept | "
          "youju accept | ratio | postfix e2e | youju e2e | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for v in variants:
        pa = statistics.median(r[0] for r in res[(v, "postfix")])
        pe = statistics.median(r[1] for r in res[(v, "postfix")])
        ya = statistics.median(r[0] for r in res[(v, "youju")])
        ye = statistics.median(r[1] for r in res[(v, "youju")])
        print("| %d | %d | %d | %s | %.0f | %.0f | %.2f | %.0f | %.0f "
              "| %.2f |" % (v[0], v[1], v[2], "yes" if v[3] else "no",
                            pa, ya, ya / pa, pe, ye, ye / pe))


def bench_relay(mtas, args, res):
    """Relaying to smtp-sink."""
    sink = Sink()
    sink.start()
    relay = (20, 1000 if args.quick else 5000, 10240)
    try:
        for rnd in range(args.rounds):
            for m in mtas:
                m.start()
                a, e, got = relay_load(m, sink, *relay)
                m.stop()
                res.setdefault(("relay", m.name), []).append(
                    (a, e, got))
                print("# round %d %s relay to smtp-sink (%d msgs, %d "
                      "sessions): accept %.0f/s relayed %.0f/s got %d" %
                      (rnd + 1, m.name, relay[1], relay[0], a, e, got),
                      flush=True)
    finally:
        sink.stop()
    pa = statistics.median(r[0] for r in res[("relay", "postfix")])
    ya = statistics.median(r[0] for r in res[("relay", "youju")])
    pe = statistics.median(r[1] for r in res[("relay", "postfix")])
    ye = statistics.median(r[1] for r in res[("relay", "youju")])
    print("\nrelay of %d x 10 KB to smtp-sink: accept postfix %.0f/s, "
          "youju %.0f/s (ratio %.2f); relayed end to end postfix "
          "%.0f/s, youju %.0f/s (ratio %.2f)" % (relay[1], pa, ya,
                                                  ya / pa, pe, ye,
                                                  ye / pe))


def bench_submission(mtas, args, res):
    """Submission: STARTTLS + AUTH PLAIN per message."""
    sub = (4, 400 if args.quick else 2000, 10240)
    for rnd in range(args.rounds):
        for m in mtas:
            m.start()
            a, e, got = sub_load(m, *sub)
            m.stop()
            res.setdefault(("sub", m.name), []).append((a, e, got))
            print("# round %d %s submission (STARTTLS + AUTH PLAIN, "
                  "%d client processes, %d msgs): accept %.0f/s e2e "
                  "%.0f/s delivered %d" % (rnd + 1, m.name, sub[0],
                                           sub[1], a, e, got),
                  flush=True)
    pa = statistics.median(r[0] for r in res[("sub", "postfix")])
    ya = statistics.median(r[0] for r in res[("sub", "youju")])
    pe = statistics.median(r[1] for r in res[("sub", "postfix")])
    ye = statistics.median(r[1] for r in res[("sub", "youju")])
    print("\nsubmission, a new TLS session + AUTH PLAIN (SHA512-CRYPT) "
          "per 10 KB message: postfix+dovecot accept %.0f/s, youju %.0f/s"
          " (ratio %.2f); e2e %.0f/s vs %.0f/s (ratio %.2f)" %
          (pa, ya, ya / pa, pe, ye, ye / pe))


def bench_idle(mtas, args, res):
    """Memory of 1000 idle sessions (youju only)."""
    y = mtas[1]
    y.start()
    idle0 = mem_tree(y.root_pid())
    ok, held = idle_sessions(y, 1000)
    y.stop()
    print("\nyouju: %d of 1000 idle sessions held (EHLO sent).  Master "
          "and all children: RSS %.1f MB idle, %.1f MB with the "
          "sessions (%.1f KB per session); PSS %.1f MB idle, %.1f MB "
          "with the sessions.  The smtpd processes alone: RSS %.1f MB "
          "with the sessions." % (ok, idle0[0] / 1024, held[0] / 1024,
                                  (held[0] - idle0[0]) / max(ok, 1),
                                  idle0[1] / 1024, held[1] / 1024,
                                  held[2] / 1024))


def bench_dkim(mtas, args, res):
    """Relay and submission with DKIM signing off and on."""
    make_dkim_keys()
    sink = Sink()
    sink.start()
    relay = (20, 1000 if args.quick else 5000, 10240)
    sub = (4, 400 if args.quick else 2000, 10240)
    variants = [(m, k) for m in mtas for k in
                ((None, "rsa") if m.name == "postfix" else
                 (None, "rsa", "dual"))]
    try:
        for rnd in range(args.rounds):
            for m, k in variants:
                m.dkim = k
                name = "%s-%s" % (m.name, k or "off")
                m.start()
                c0 = tree_cpu(m.roots())
                a, e, got = relay_load(m, sink, *relay)
                c1 = tree_cpu(m.roots())
                sa, se, sgot = sub_load(m, *sub)
                c2 = tree_cpu(m.roots())
                m.stop()
                m.dkim = None
                res.setdefault(("dkim-relay", name), []).append(
                    (a, e, (c1 - c0) / max(got, 1) * 1000))
                res.setdefault(("dkim-sub", name), []).append(
                    (sa, se, (c2 - c1) / max(sgot, 1) * 1000))
                print("# round %d %s: relay accept %.0f/s relayed %.0f/s "
                      "got %d, %.2f ms CPU/msg; submission accept %.0f/s "
                      "e2e %.0f/s got %d, %.2f ms CPU/msg" %
                      (rnd + 1, name, a, e, got,
                       (c1 - c0) / max(got, 1) * 1000, sa, se, sgot,
                       (c2 - c1) / max(sgot, 1) * 1000), flush=True)
    finally:
        sink.stop()

    def med(kind, name, i):
        return statistics.median(r[i] for r in res[(kind, name)])
    for kind, what in (("dkim-relay", "relay of %d x 10 KB to smtp-sink "
                        "(%d sessions)" % (relay[1], relay[0])),
                       ("dkim-sub", "submission, STARTTLS + AUTH per "
                        "10 KB message (%d msgs)" % sub[1])):
        print("\n%s, DKIM signing off and on (medians):" % what)
        print("  %-14s %9s %9s %12s" % ("", "accept/s", "e2e/s",
                                         "CPU ms/msg"))
        for m, k in variants:
            name = "%s-%s" % (m.name, k or "off")
            print("  %-14s %9.0f %9.0f %12.2f" % (
                name, med(kind, name, 0), med(kind, name, 1),
                med(kind, name, 2)))
        for k in ("rsa", "dual"):
            off, on = "youju-off", "youju-" + k
            print("  youju signing %s costs %.1f %% of e2e throughput, "
                  "+%.2f ms CPU per message" % (
                      k, 100 * (1 - med(kind, on, 1) / med(kind, off, 1)),
                      med(kind, on, 2) - med(kind, off, 2)))
        print("  youju-rsa / postfix+opendkim: e2e ratio %.2f, CPU per "
              "message ratio %.2f" % (
                  med(kind, "youju-rsa", 1) / med(kind, "postfix-rsa", 1),
                  med(kind, "youju-rsa", 2) / med(kind, "postfix-rsa", 2)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="inbound,relay,submission,idle,dkim",
                    help="comma-separated parts to run")
    args = ap.parse_args()
    parts = {"inbound": bench_inbound, "relay": bench_relay,
             "submission": bench_submission, "idle": bench_idle,
             "dkim": bench_dkim}
    only = [p.strip() for p in args.only.split(",") if p.strip()]
    for p in only:
        if p not in parts:
            ap.error("--only: unknown part %r (of %s)" % (p, ", ".join(
                parts)))
    os.makedirs(BASE, exist_ok=True)
    os.chmod(BASE, 0o755)
    os.makedirs(os.path.join(BASE, "home"), exist_ok=True)
    os.chmod(os.path.join(BASE, "home"), 0o755)
    if not os.path.exists(os.path.join(BASE, "cert.pem")):
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
           "-keyout", os.path.join(BASE, "key.pem"), "-out",
           os.path.join(BASE, "cert.pem"), "-days", "3650", "-subj",
           "/CN=bench.test", stdout=subprocess.DEVNULL,
           stderr=subprocess.DEVNULL)
        os.chmod(os.path.join(BASE, "key.pem"), 0o644)
    mtas = [Postfix(2725), Youju(args.build, 2726)]
    if args.quick:
        args.rounds = 1
    res = {}
    for m in mtas:
        m.setup()
    try:
        for p in only:
            parts[p](mtas, args, res)
    finally:
        for m in mtas:
            m.stop()


if __name__ == "__main__":
    sys.exit(main())
