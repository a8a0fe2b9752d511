"""Power loss: a run killed with SIGKILL at 20 different points, each followed by a normal run,
converges to the same tree as an uninterrupted run."""
import os
import signal
import subprocess
import time

import harness
from harness import BIN, Sandbox, check, snapshot_tree
from test_engine_sandbox import DAEMON_RUNTIME

KILLS = 20
# Always different between two clean runs (logs, journal timestamps, backups of the run).
VOLATILE = DAEMON_RUNTIME + ["var/log", "var/lib/firstboot/journal.json", "var/lib/firstboot/backup",
                             "var/lib/firstboot/lock"]


def signature(sb, deterministic=None):
    """Paths with kind and mode; contents only for files known to be deterministic."""
    tree = snapshot_tree(sb.dir, VOLATILE)
    sig = {}
    for rel, (kind, mode, uid, content, _mtime) in tree.items():
        keep = deterministic is not None and rel in deterministic
        sig[rel] = (kind, mode, uid, content if keep else None)
    return sig, tree


def clean_run(name):
    with Sandbox(name) as sb:
        start = time.monotonic()
        sb.run()
        elapsed = time.monotonic() - start
        _, tree = signature(sb)
        return elapsed, tree


def test_killed_runs_converge():
    elapsed_a, tree_a = clean_run("kill-baseline-a")
    _, tree_b = clean_run("kill-baseline-b")
    # Files with the same content in two independent clean runs are deterministic; keys, certs
    # and anything derived from them differ by design.
    deterministic = {rel for rel in tree_a if rel in tree_b and tree_a[rel][3] == tree_b[rel][3]}
    expected = {rel: (k, m, u, c if rel in deterministic else None)
                for rel, (k, m, u, c, _t) in tree_a.items()}
    problems = []
    for i in range(KILLS):
        delay = elapsed_a * (i + 0.5) / KILLS  # spread over the whole run
        with Sandbox(f"kill-{i:02d}") as sb:
            proc = subprocess.Popen([BIN, "run", "--profile", sb.profile, "--sandbox", sb.dir],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            rerun = sb.firstboot("run", timeout=300)
            if rerun.returncode != 0:
                problems.append(f"kill {i} after {delay:.2f}s: rerun exited {rerun.returncode}\n"
                                f"{rerun.stdout}\n{rerun.stderr}")
                continue
            got, _ = signature(sb, deterministic)
            diffs = [r for r in sorted(set(got) | set(expected)) if got.get(r) != expected.get(r)]
            if diffs:
                problems.append(f"kill {i} after {delay:.2f}s: differs at " + ", ".join(diffs[:10]))
    check(not problems, "\n".join(problems))


if __name__ == "__main__":
    harness.main(globals())
