"""Drives a full-screen console program in an 80x24 pseudo-terminal (a detached tmux pane): keys go
in with send-keys, the screen comes back as text with capture-pane. Used by the wizard tests; the
captures also become the screens in docs/wizard.md (scripts/wizard-doc-screens)."""
import os
import shlex
import shutil
import subprocess
import time

import harness

COLS, ROWS = 80, 24


class Tty:
    """One program in its own tmux server (socket under the test's work dir), bounded in time."""

    def __init__(self, workdir, argv, env=None, cols=COLS, rows=ROWS):
        if shutil.which("tmux") is None:
            raise harness.Failure("tmux is missing (scripts/install-deps installs it)")
        os.makedirs(workdir, exist_ok=True)
        self.socket = os.path.join(workdir, "tmux.sock")
        self.status_file = os.path.join(workdir, "exit-status")
        for stale in (self.status_file,):
            if os.path.exists(stale):
                os.unlink(stale)
        conf = os.path.join(workdir, "tmux.conf")
        with open(conf, "w") as f:
            f.write("set -g status off\nset -g remain-on-exit on\nset -g escape-time 0\n")
        environment = {"TERM": "vt220", "LANG": "C.UTF-8"}
        environment.update(env or {})
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in environment.items())
        # The shell records the exit status, then the pane stays (remain-on-exit) for a last capture.
        inner = (f"env {exports} {' '.join(shlex.quote(a) for a in argv)}; "
                 f"echo $? > {shlex.quote(self.status_file)}")
        self._tmux("-f", conf, "new-session", "-d", "-x", str(cols), "-y", str(rows), "-s", "t",
                   "sh", "-c", inner)

    def _tmux(self, *args):
        return harness.run_cmd(["tmux", "-S", self.socket] + list(args), timeout=20, check_rc=0)

    def screen(self):
        """The visible 80x24 screen as text, trailing blanks removed from each line."""
        out = self._tmux("capture-pane", "-p", "-t", "t").stdout
        lines = [l.rstrip() for l in out.split("\n")]
        return "\n".join(lines[:ROWS])

    def wait_for(self, text, timeout=15):
        """Waits until text is on the screen; returns the screen."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            last = self.screen()
            if text in last:
                return last
            if self.exited() and text not in last:
                break
            time.sleep(0.05)
        raise harness.Failure(f"'{text}' did not appear within {timeout}s; the screen:\n{last}")

    def keys(self, *keys, pause=0.05):
        """tmux key names: Enter, Tab, BTab, Escape, Down, Up, F12, C-c, C-u, Home ..."""
        for key in keys:
            self._tmux("send-keys", "-t", "t", key)
            time.sleep(pause)

    def type(self, text):
        self._tmux("send-keys", "-t", "t", "-l", text)
        time.sleep(0.05)

    def replace_field(self, text):
        """Empties the focused entry field and types text into it."""
        self._tmux("send-keys", "-t", "t", "End", *(["BSpace"] * 100))
        self.type(text)

    def exited(self):
        return os.path.exists(self.status_file) and open(self.status_file).read().strip() != ""

    def wait_exit(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited():
                return int(open(self.status_file).read().strip())
            time.sleep(0.05)
        raise harness.Failure(f"the program did not exit within {timeout}s; the screen:\n"
                              f"{self.screen()}")

    def close(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=20)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
