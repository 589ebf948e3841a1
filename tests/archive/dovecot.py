"""A real IMAP server for the archive's tests and benchmark: Debian's Dovecot on a loopback port.

Each `Dovecot` gets a throw-away configuration, a passwd file and Maildirs under a temporary folder of its
own, so parallel test workers and a benchmark run never share a server. As root, Dovecot refuses to run its
login processes or to serve mail as root: those run as Dovecot's own system users and the mail belongs to
`nobody`. As another user, everything runs as that user.
"""

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient

DOVECOT = "/usr/sbin/dovecot"
NOT_INSTALLED = (
    "Dovecot is not installed (/usr/sbin/dovecot): install Debian's dovecot-imapd (scripts/test does) to run "
    "the IMAP tests."
)


def installed() -> bool:
    return os.access(DOVECOT, os.X_OK)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _user(name: str, fallback: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return fallback
    return name


class Dovecot:
    host = "127.0.0.1"

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="rekisteri-dovecot-"))
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.users: dict[str, str] = {}
        if os.geteuid() == 0:
            login_user = _user("dovenull", "nobody")
            internal_user = _user("dovecot", "nobody")
            mail = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = mail.pw_uid, mail.pw_gid
            # nobody must reach its Maildirs.
            self.root.chmod(0o755)
        else:
            login_user = internal_user = pwd.getpwuid(os.getuid()).pw_name
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()
        for folder in ("run", "state", "mail", "users"):
            (self.root / folder).mkdir()
        os.chown(self.root / "mail", self.mail_uid, self.mail_gid)
        (self.root / "dovecot.conf").write_text(
            f"""
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# No penalty delays for the failed logins the tests make on purpose.
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {min(self.mail_uid, 500)}
mail_location = maildir:{self.root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = {self.root}/users/%u
  default_fields = uid={self.mail_uid} gid={self.mail_gid} home={self.root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 1000
}}
"""
        )

    def start(self) -> "Dovecot":
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Dovecot exited: {self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as connection:
                    if connection.recv(64).startswith(b"* OK"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot did not answer: {self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def add_user(self, name: str | None = None, password: str | None = None) -> tuple[str, str]:
        """Create an account with an empty INBOX and Sent folder; return its user name and password."""
        name = name or f"user{secrets.token_hex(4)}"
        password = password or secrets.token_urlsafe(12)
        self.users[name] = password
        # A passwd file per user: Dovecot caches a file it has read, so a new account gets a new file.
        (self.root / "users" / name).write_text(f"{name}:{{PLAIN}}{password}::::::\n")
        with self.client(name) as client:
            client.create_folder("Sent")
        return name, password

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.plain_login(user, self.users[user])
        return client

    def deliver(self, user: str, folder: str, messages: list[bytes], *, flags=(), batch: int = 200) -> None:
        """APPEND the raw messages to the folder, in the given order, on one connection."""
        with self.client(user) as client:
            for start in range(0, len(messages), batch):
                # One MULTIAPPEND per batch where the server offers it (Dovecot does).
                chunk = messages[start : start + batch]
                if client.has_capability("MULTIAPPEND"):
                    client.multiappend(folder, [{"msg": raw, "flags": flags} for raw in chunk])
                else:
                    for raw in chunk:
                        client.append(folder, raw, flags=flags)

    def uids(self, user: str, folder: str) -> list[int]:
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            return sorted(client.search("ALL"))

    def flags(self, user: str, folder: str) -> dict[int, tuple]:
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()} if uids else {}

    def originals(self, user: str, folder: str) -> list[bytes]:
        """The raw messages as the server serves them, in UID order."""
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search("ALL"))
            fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [fetched[uid][b"BODY[]"] for uid in uids]

    def folder_recreate(self, user: str, folder: str) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY."""
        with self.client(user) as client:
            client.delete_folder(folder)
            client.create_folder(folder)

    def uid_validity(self, user: str, folder: str) -> int:
        with self.client(user) as client:
            return int(client.select_folder(folder, readonly=True)[b"UIDVALIDITY"])
