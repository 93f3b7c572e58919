"""The packaged app leaves `datasets` (and pyarrow) out (issue 21): a hub import there says so and what to
do instead, and changes nothing."""

import sys

import pytest

from intentdesk.core.data.importers import NO_DATASETS, import_into
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import DatasetError


def test_a_hub_import_without_the_datasets_package_says_to_import_a_folder(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # `import datasets` raises ImportError, as when frozen
    store = DatasetStore.create(tmp_path / "d")
    with pytest.raises(DatasetError) as caught:
        import_into(store, "PolyAI/minds14", hub_config="en-US")
    assert str(caught.value) == NO_DATASETS and "import a folder of clips instead" in str(caught.value)
    assert len(DatasetStore.open(store.root)) == 0
