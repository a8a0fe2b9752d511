"""End-to-end test harness: sandboxes, the firstboot binary, tree snapshots, a tiny runner.

Each test file defines test_* functions and ends with `harness.main(globals())`, which runs them in
order, stops every sandbox even when a test fails, and prints 'N passed, M failed'.
"""
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import time
import traceback

import yaml

SOURCE = os.environ.get("FIRSTBOOT_SOURCE", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BIN = os.environ.get("FIRSTBOOT_BIN", os.path.join(SOURCE, "build", "dev", "src", "cli", "firstboot"))
WORK = os.environ.get("FIRSTBOOT_E2E_WORK", os.path.join(SOURCE, "build", "e2e"))
PROFILES = os.path.join(SOURCE, "profiles")

_open_sandboxes = []

# Profile keys holding paths that are relative to the profile's own directory.
_PATH_KEYS = [("password_file",), ("relay", "password_file"), ("tls", "cert"), ("tls", "key"),
              ("database_password_file",)]


class Failure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run_cmd(args, timeout=120, check_rc=None, **kw):
    """Runs a command, bounded in time; returns CompletedProcess with text output."""
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check_rc is not None and proc.returncode != check_rc:
        raise Failure(f"{' '.join(map(str, args))} exited {proc.returncode}, expected {check_rc}\n"
                      f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc


def _absolutize(doc, base_dir):
    def fix(node, path):
        if not isinstance(node, dict):
            return
        key = path[0]
        if len(path) == 1:
            if isinstance(node.get(key), str) and not os.path.isabs(node[key]):
                node[key] = os.path.join(base_dir, node[key])
        else:
            fix(node.get(key), path[1:])
    for path in _PATH_KEYS:
        fix(doc, path)
    for user in doc.get("users", []) or []:
        fix(user, ("password_file",))


class Sandbox:
    """A fresh sandbox directory under build/e2e/<name>; its daemons are stopped on exit."""

    def __init__(self, name, profile="full.yaml"):
        self.name = name
        self.root = os.path.join(WORK, name)
        self.dir = os.path.join(self.root, "sandbox")
        self.profile = None
        if os.path.exists(self.dir):
            subprocess.run([BIN, "stop", "--sandbox", self.dir], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root, mode=0o755)
        os.chmod(self.root, 0o755)
        if profile:
            self.use_profile(profile)

    def __enter__(self):
        _open_sandboxes.append(self)
        return self

    def __exit__(self, *exc):
        self.stop()
        if self in _open_sandboxes:
            _open_sandboxes.remove(self)
        return False

    def use_profile(self, profile, changes=None):
        """Writes a profile for this sandbox: an example from profiles/ (or a path), with changes
        applied (a function taking and returning the parsed YAML document). Returns its path."""
        src = profile if os.path.isabs(profile) else os.path.join(PROFILES, profile)
        with open(src) as f:
            doc = yaml.safe_load(f)
        _absolutize(doc, os.path.dirname(src))
        if changes:
            doc = changes(doc) or doc
        self.profile = os.path.join(self.root, "profile.yaml")
        with open(self.profile, "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        return self.profile

    def path(self, rel):
        return os.path.join(self.dir, rel.lstrip("/"))

    def firstboot(self, *args, timeout=300, check_rc=None):
        """Runs firstboot with --sandbox (and --profile for run/plan) added."""
        args = list(args)
        cmd = [BIN] + args
        if args and args[0] in ("run", "plan") and "--profile" not in args:
            cmd += ["--profile", self.profile]
        if args and args[0] in ("run", "plan", "status", "check", "stop", "analyze", "dns-records"):
            cmd += ["--sandbox", self.dir]
        return run_cmd(cmd, timeout=timeout, check_rc=check_rc)

    def run(self, check_rc=0, timeout=300):
        return self.firstboot("run", timeout=timeout, check_rc=check_rc)

    def stop(self):
        if os.path.isdir(self.dir):
            subprocess.run([BIN, "stop", "--sandbox", self.dir], capture_output=True, timeout=120)

    def snapshot(self, exclude=()):
        """{relative path: (kind, mode, uid, sha256 or link target, mtime_ns)} of the whole tree,
        skipping paths under any prefix in exclude."""
        return snapshot_tree(self.dir, exclude)


def snapshot_tree(top, exclude=()):
    tree = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, top)
            if any(rel == e or rel.startswith(e.rstrip("/") + "/") for e in exclude):
                continue
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    content = hashlib.sha256(f.read()).hexdigest()
                kind = "file"
            elif stat.S_ISLNK(st.st_mode):
                content, kind = os.readlink(full), "link"
            elif stat.S_ISDIR(st.st_mode):
                content, kind = "", "dir"
            else:
                content, kind = "", "special"  # sockets, fifos: present, content irrelevant
            mtime = st.st_mtime_ns if kind in ("file", "link") else 0
            tree[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, content, mtime)
    return tree


def diff_trees(before, after, compare_mtime=True):
    """Human-readable differences between two snapshots ([] when equal)."""
    out = []
    for rel in sorted(set(before) | set(after)):
        a, b = before.get(rel), after.get(rel)
        if a is None:
            out.append(f"added {rel}")
        elif b is None:
            out.append(f"removed {rel}")
        else:
            fields = ["kind", "mode", "owner", "content", "mtime"]
            for i, field in enumerate(fields):
                if field == "mtime" and not compare_mtime:
                    continue
                if a[i] != b[i]:
                    out.append(f"{field} changed: {rel}")
                    break
    return out


def wait_for(predicate, timeout=10, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise Failure(f"timed out after {timeout}s waiting for {what}")


def main(namespace):
    """Runs every test_* function in definition order; prints the summary line; exits 1 on failure."""
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    only = sys.argv[1:]
    passed = failed = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        start = time.monotonic()
        try:
            fn()
            passed += 1
            print(f"PASS {name} ({time.monotonic() - start:.1f}s)", flush=True)
        except Exception:  # noqa: BLE001 - report every failure, keep going
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - start:.1f}s)", flush=True)
            traceback.print_exc()
        finally:
            for sb in list(_open_sandboxes):
                sb.stop()
                _open_sandboxes.remove(sb)
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed or passed == 0 else 0)
