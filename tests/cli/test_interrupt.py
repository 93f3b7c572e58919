"""Ctrl-C at any moment of a command is one line and exit 130, never a traceback."""

from __future__ import annotations

import builtins

from intentdesk import entry


def test_ctrl_c_while_the_commands_are_still_importing_is_one_line(monkeypatch, capsys):
    real_import = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "intentdesk.cli":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    assert entry.main(["--help"]) == entry.INTERRUPTED
    assert capsys.readouterr().err == "interrupted\n"


def test_ctrl_c_during_the_self_test_is_one_line(monkeypatch, capsys):
    from intentdesk import selftest

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(selftest, "run", interrupted)
    assert entry.main(["--self-test"]) == entry.INTERRUPTED
    assert "Traceback" not in capsys.readouterr().err
