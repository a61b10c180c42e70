"""The append-only journal: header id, torn lines, and telling a replaced file from an old one."""

from __future__ import annotations

import json

from unet_desktop.core.folder.journal import Journal, file_identity, was_replaced
from unet_desktop.core.io.atomic import atomic_write_bytes


def test_entries_come_back_in_order_under_one_id(tmp_path):
    journal = Journal(tmp_path / "sub" / "j.journal")
    assert journal.read() == [] and journal.id is None and not journal.exists()
    journal.append({"name": "a.png", "n": 1})
    journal.append({"name": "ä.png", "n": 2})
    first_id = journal.id
    assert first_id and len(first_id) == 32

    again = Journal(journal.path)  # another reader sees the same file
    assert again.read() == [{"name": "a.png", "n": 1}, {"name": "ä.png", "n": 2}]
    assert again.id == first_id
    journal.clear()
    assert not journal.exists() and journal.id is None
    journal.append({"name": "b.png"})
    assert journal.id not in (None, first_id)  # a new file, a new id


def test_a_torn_last_line_and_foreign_lines_are_skipped(tmp_path):
    journal = Journal(tmp_path / "j.journal")
    journal.append({"name": "a.png"})
    journal.append({"name": "b.png"})
    with open(journal.path, "ab") as f:
        f.write(b'[1, 2]\n\xff\xfe\n{"name": "c.p')  # not objects, not UTF-8, torn by a kill
    assert Journal(journal.path).read() == [{"name": "a.png"}, {"name": "b.png"}]


def test_a_journal_without_its_header_still_replays(tmp_path):
    path = tmp_path / "j.journal"
    path.write_text(json.dumps({"name": "a.png"}) + "\n")
    journal = Journal(path)
    assert journal.read() == [{"name": "a.png"}] and journal.id is None


def test_an_atomic_replacement_is_told_from_the_file_it_replaced(tmp_path):
    path = tmp_path / "m.png"
    assert file_identity(path) is None
    assert not was_replaced(path, None)  # nothing was written
    atomic_write_bytes(path, b"old")
    before = file_identity(path)
    assert was_replaced(path, None)  # a new file where there was none
    assert not was_replaced(path, before)  # the write never happened
    atomic_write_bytes(path, b"new")  # same size: the new inode tells them apart
    assert was_replaced(path, before)
    path.unlink()
    assert not was_replaced(path, before)
