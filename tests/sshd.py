"""A real OpenSSH server on 127.0.0.1 for the deploy tests and the apply benchmark.

Its own config file, host key, client key, authorized_keys and known_hosts, all in one folder;
a random free port; the current user logs in with the generated key. Works as root (CI) and,
where /run/sshd exists, as another user. Nothing here touches the system's own sshd.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")
PRIVSEP_DIR = Path("/run/sshd")


def sshd_binary() -> str | None:
    found = next((c for c in SSHD_CANDIDATES if os.access(c, os.X_OK)), None)
    if found is None or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return None
    return found


def sshd_unavailable_reason() -> str | None:
    """Why a test sshd cannot start here (None: it can)."""
    if sshd_binary() is None:
        return "OpenSSH server (apt install openssh-server) and client"
    if not PRIVSEP_DIR.is_dir() and os.geteuid() != 0:
        return f"{PRIVSEP_DIR} (sshd's privilege separation directory; create it as root)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SshServer:
    folder: Path
    port: int
    user: str
    client_key: Path
    known_hosts: Path
    process: subprocess.Popen[bytes]

    def host_vars(self, name: str = "") -> dict[str, object]:
        """Ansible variables that reach this server with its own key and known_hosts. Every
        server of a test fleet is this one sshd: `name` gives each its own SSH master connection,
        as distinct hosts have."""
        return {
            "ansible_control_path": f"%(directory)s/{name}-%%C" if name else "%(directory)s/%%C",
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": str(self.client_key),
            "ansible_ssh_common_args": (
                f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes "
                "-o IdentitiesOnly=yes -o GlobalKnownHostsFile=/dev/null"
            ),
            "ansible_python_interpreter": "/usr/bin/python3",
        }

    def ssh(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "ssh",
                "-p",
                str(self.port),
                "-i",
                str(self.client_key),
                "-o",
                f"UserKnownHostsFile={self.known_hosts}",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "BatchMode=yes",
                f"{self.user}@127.0.0.1",
                command,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_sshd(folder: Path) -> SshServer:
    """Generate keys and a config in `folder`, start sshd on a free port, wait until it answers."""
    binary = sshd_binary()
    if binary is None:
        raise RuntimeError("sshd is not installed")
    if not PRIVSEP_DIR.is_dir() and os.geteuid() == 0:
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    host_key = folder / "ssh_host_ed25519_key"
    client_key = folder / "client_ed25519"
    for key in (host_key, client_key):
        if not key.exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pabx-test", "-f", str(key)],
                check=True,
                capture_output=True,
            )
    authorized = folder / "authorized_keys"
    authorized.write_text((client_key.with_suffix(".pub")).read_text())
    authorized.chmod(0o600)
    port = free_port()
    user = getpass.getuser()
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {authorized}",
                f"PidFile {folder / 'sshd.pid'}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "StrictModes no",
                "MaxStartups 100:30:200",
                "MaxSessions 100",
                "Subsystem sftp internal-sftp",
                "LogLevel ERROR",
                "UseDNS no",
                "PrintMotd no",
                "PrintLastLog no",
                "X11Forwarding no",
                "",
            ]
        )
    )
    host_pub = host_key.with_suffix(".pub").read_text().split()
    known_hosts = folder / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    log = (folder / "sshd.log").open("ab")
    process = subprocess.Popen([binary, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
    server = SshServer(folder, port, user, client_key, known_hosts, process)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited: {(folder / 'sshd.log').read_text()[-2000:]}")
        answer = server.ssh("true")
        if answer.returncode == 0:
            return server
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"sshd did not answer: {answer.stderr[-2000:]}")
        time.sleep(0.2)
