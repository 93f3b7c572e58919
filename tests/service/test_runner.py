"""`intentdesk serve` refuses bad options and a port in use in one line, before loading the model (issue #18)."""

from __future__ import annotations

import socket

import pytest


def run_main(capsys, *argv) -> tuple[int, str]:
    from intentdesk.cli import main

    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("option", "value"), [
    ("--max-batch", "0"), ("--max-wait-ms", "-5"), ("--max-body-mb", "0"), ("--max-body-mb", "nan"),
    ("--max-seconds", "0"), ("--port", "70000"), ("--api-key", " spaced"),
])
def test_cli_refuses_bad_serve_options_in_one_line(capsys, tmp_path, option, value):
    code, err = run_main(capsys, "serve", tmp_path / "no-model", option, value)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert option in err


def test_cli_reports_a_port_in_use_before_loading_the_model(capsys, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run_main(capsys, "serve", tmp_path / "no-model", "--port", port)
    assert code == 2 and "cannot listen on 127.0.0.1:" in err and "--port" in err and "no-model" not in err
