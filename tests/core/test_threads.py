"""How torch's worker threads wait is set once, before torch loads (with how it gets memory), and a person's own
choice is kept."""

import subprocess
import sys

from intentdesk.core.threads import prepare_process


def test_passive_waiting_unless_the_person_chose_otherwise():
    environ: dict[str, str] = {}
    prepare_process(environ)
    assert environ == {"OMP_WAIT_POLICY": "PASSIVE"}
    chosen = {"OMP_WAIT_POLICY": "ACTIVE"}
    prepare_process(chosen)
    assert chosen == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_the_entry_sets_it_and_the_allocation_before_the_commands_and_torch_are_imported():
    script = (
        "import sys, intentdesk.core.threads as threads, intentdesk.core.allocation as allocation\n"
        "def spying(real):\n"
        "    def spy(*args):\n"
        "        print(sorted(m for m in ('torch', 'intentdesk.cli') if m in sys.modules))\n"
        "        real(*args)\n"
        "    return spy\n"
        "threads.prepare_process = spying(threads.prepare_process)\n"
        "allocation.prepare_allocation = spying(allocation.prepare_allocation)\n"
        "from intentdesk.entry import main\n"
        "main(['no-such-command'])\n"
        "import os; print(os.environ['OMP_WAIT_POLICY'], os.environ['THP_MEM_ALLOC_ENABLE'])\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    lines = done.stdout.splitlines()
    assert lines[:2] == ["[]", "[]"] and lines[-1] == "PASSIVE 1", done.stdout + done.stderr
