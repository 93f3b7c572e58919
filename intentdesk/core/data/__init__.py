"""The dataset: its store on disk, importers, the train/eval split and health checks.

The names inside a dataset folder are here, one place for every module that reads or writes them.

Layout::

    DATA/metadata.csv               file_name,label[,split][,transcript,transcript_by][,any extra columns...]
    DATA/phrases.csv                label,text: example sentences typed for an intent (phrases.py)
    DATA/label_keys.json            each label's key number in the Label tab (label_numbers.py)
    DATA/clips/<label>/<name>       the audio, one file per clip
    DATA/.trash/<batch>/            deleted clips and their rows, for undo (hidden: audiofolder skips it)
    DATA/.staging/<id>/             an import in progress (copies of its sources, then its journal)
    DATA/.intentdesk.lock           the inter-process lock every change takes
    DATA/.intentdesk-hashes.json    content hashes of the clips, a cache to find duplicate imports
"""

from __future__ import annotations

METADATA = "metadata.csv"
PHRASES = "phrases.csv"
LABEL_KEYS = "label_keys.json"
CLIPS = "clips"
TRASH = ".trash"
STAGING = ".staging"
LOCK_FILE = ".intentdesk.lock"
HASH_INDEX = ".intentdesk-hashes.json"
JOURNAL = "journal.json"
TRASH_ROWS = "rows.json"
