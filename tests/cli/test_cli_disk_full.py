"""Commands that write a folder say a full disk in one line, exit 2, and leave what was there as it
was (issue 26, item 6): `train` over an earlier model, `export-serve`."""

from __future__ import annotations

import shutil
from pathlib import Path

from intentdesk import cli
from tests.disk_full import no_space


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


class SafetensorError(Exception):
    """What safetensors raises on a full disk (the OS error only in its text)."""


def test_train_over_an_earlier_model_on_a_full_disk(tone_model, tone_dataset, tiny_wav2vec2, tmp_path, monkeypatch,
                                                    capsys):
    out = Path(shutil.copytree(tone_model, tmp_path / "models" / "run"))
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)

    def weights_do_not_fit(self, folder, *args, **kwargs):
        (Path(folder) / "model.safetensors").write_bytes(b"half")
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr("transformers.PreTrainedModel.save_pretrained", weights_do_not_fit)
    code = cli.main(["train", str(tone_dataset.root), "--base", str(tiny_wav2vec2), "--out", str(out),
                     "--epochs", "1"])
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert (code, captured.out) == (2, "")
    assert len(errors) == 1 and errors[0].startswith(f"error: the disk holding {out.parent} is full")
    assert errors[0].endswith(f"the model was not saved to {out} (the earlier model there is unchanged)")
    assert "unexpected" not in captured.err and "please report" not in captured.err
    assert snapshot(out) == before and sorted(p.name for p in out.parent.iterdir()) == ["run"]


def test_export_serve_on_a_full_disk(saved_classifier, tmp_path, monkeypatch, capsys):
    real_write = Path.write_text

    def app_does_not_fit(path, *args, **kwargs):
        if path.name == "app.py":
            raise no_space(path)
        return real_write(path, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", app_does_not_fit)
    code = cli.main(["export-serve", str(saved_classifier), str(tmp_path / "app")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: the disk holding {tmp_path} is full (")
    assert err.endswith(f"nothing was written to {tmp_path / 'app'}\n")
    assert list(tmp_path.iterdir()) == []  # the partial copy is gone
