"""`intentdesk export-serve` stages its output in a fresh folder and refuses what it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from intentdesk.core.errors import IntentDeskError


def test_export_serve_leaves_other_folders_alone(saved_classifier, tmp_path):
    from intentdesk.service.ray_export import export_ray_app

    mine = tmp_path / ".app.partial"  # looks like the old fixed staging name, but is the user's
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    out = export_ray_app(saved_classifier, tmp_path / "app")
    assert (mine / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".app.partial", "app"]
    assert "max_seconds=30.0" in (out / "app.py").read_text()


@pytest.mark.parametrize("where", ["file", "inside"])
def test_export_serve_refuses_unusable_output_folders(saved_classifier, tmp_path, where):
    from intentdesk.service.ray_export import export_ray_app

    out = tmp_path / "a-file" if where == "file" else Path(saved_classifier) / "ray_app"
    if where == "file":
        out.write_text("x")
    with pytest.raises(IntentDeskError, match="not a folder" if where == "file" else "inside the model"):
        export_ray_app(saved_classifier, out)
    assert not out.exists() or out.is_file()


def test_export_serve_refuses_bad_replica_counts(saved_classifier, tmp_path):
    from intentdesk.service.ray_export import export_ray_app

    with pytest.raises(IntentDeskError, match="--max-replicas"):
        export_ray_app(saved_classifier, tmp_path / "app", min_replicas=3, max_replicas=2)
    with pytest.raises(IntentDeskError, match="--max-batch"):
        export_ray_app(saved_classifier, tmp_path / "app", max_batch=0)
    assert not (tmp_path / "app").exists()
