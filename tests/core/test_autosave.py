from __future__ import annotations

import json
import os

import numpy as np
import pytest

from unet_desktop.core.editing import brush
from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.folder.autosave import (
    RecoveryJournal,
    default_recovery_dir,
    save_document,
)
from unet_desktop.core.labels import camvid_scheme, trimap_scheme


@pytest.fixture
def journal(tmp_path) -> RecoveryJournal:
    return RecoveryJournal(tmp_path / "recovery")


def trimap_doc(key: str = "images/a.jpg") -> MaskDocument:
    mask = np.full((16, 20), 2, np.uint8)
    return MaskDocument(key, np.zeros((16, 20, 3), np.uint8), mask, trimap_scheme())


def paint(doc: MaskDocument, x: float) -> None:
    doc.apply(brush.brush_segment(doc.mask, (x, 5.0), (x, 5.0), 3, 1))


def test_save_list_and_load_round_trip(journal, tmp_path):
    ws = tmp_path / "ws"
    mask = np.full((8, 9), 11, np.uint8)
    mask[2:5, 3:7] = 4
    entry = journal.save(ws, "images/x.png", mask, camvid_scheme())
    assert journal.entries() == [entry] and journal.entries(ws) == [entry]
    assert entry.workspace == str(ws.resolve()) and entry.key == "images/x.png"
    assert np.array_equal(journal.load(entry, camvid_scheme()), mask)
    assert len(entry.saved_at_text) == 19
    # A second autosave of the same image replaces the first.
    mask[0, 0] = 1
    again = journal.save(ws, "images/x.png", mask, camvid_scheme())
    assert journal.entries() == [again] and journal.load(again)[0, 0] == 1


def test_entries_are_per_workspace_and_discard_clear_remove_files(journal, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    mask = np.full((4, 4), 2, np.uint8)
    a = journal.save(one, "a.png", mask, trimap_scheme())
    b = journal.save(one, "b.png", mask, trimap_scheme())
    c = journal.save(two, "a.png", mask, trimap_scheme())
    assert {e.key for e in journal.entries(one)} == {"a.png", "b.png"}
    assert journal.entries(two) == [c]
    assert journal.discard(one, "a.png") and not journal.discard(one, "a.png")
    assert not journal.mask_path(a).exists()
    assert journal.clear(one) == 1 and not journal.mask_path(b).exists()
    assert journal.entries() == [c]
    assert journal.clear() == 1 and journal.entries() == []


def test_entries_without_their_mask_file_are_not_listed(journal, tmp_path):
    entry = journal.save(tmp_path, "a.png", np.full((4, 4), 2, np.uint8), trimap_scheme())
    journal.mask_path(entry).unlink()
    assert journal.entries() == [] and journal.get(tmp_path, "a.png") is None


@pytest.mark.reliability("disk", "unreadable autosave journal")
def test_unreadable_journal_is_reported_not_fatal(journal, tmp_path):
    journal.directory.mkdir(parents=True)
    journal.journal_path.write_text("{not json")
    assert journal.entries() == []
    assert "unreadable recovery journal" in journal.warnings[0]
    # The next autosave starts a fresh, valid journal.
    journal.save(tmp_path, "a.png", np.full((4, 4), 2, np.uint8), trimap_scheme())
    assert json.loads(journal.journal_path.read_text())["format"] == "unet-desktop-recovery"
    assert len(journal.entries()) == 1


def test_malformed_entries_are_skipped(journal, tmp_path):
    journal.save(tmp_path, "a.png", np.full((4, 4), 2, np.uint8), trimap_scheme())
    data = json.loads(journal.journal_path.read_text())
    data["entries"].append({"key": "b.png"})
    journal.journal_path.write_text(json.dumps(data))
    assert [e.key for e in journal.entries()] == ["a.png"]
    assert "malformed entry" in journal.warnings[0]


def test_save_document_writes_only_new_unsaved_changes(journal, tmp_path):
    doc = trimap_doc()
    assert save_document(journal, tmp_path, doc) is None  # clean
    paint(doc, 4)
    entry = save_document(journal, tmp_path, doc)
    assert entry is not None and np.array_equal(journal.load(entry), doc.mask)
    assert save_document(journal, tmp_path, doc) is None  # nothing new since
    paint(doc, 12)
    assert save_document(journal, tmp_path, doc) is not None
    # A stroke still being drawn is left for the next call, and stays one undo step.
    doc.begin_stroke("Brush stroke")
    paint(doc, 16)
    assert save_document(journal, tmp_path, doc) is None and doc.in_stroke
    doc.end_stroke()
    latest = save_document(journal, tmp_path, doc)
    assert latest is not None and journal.load(latest)[5, 16] == 1


def test_default_recovery_dir_is_under_the_isolated_user_home(_isolated_user_dirs):
    assert str(default_recovery_dir()).startswith(str(_isolated_user_dirs))


SAVER = """
import sys
import numpy as np
from unet_desktop.core.folder.autosave import RecoveryJournal
from unet_desktop.core.labels import binary_scheme
journal = RecoveryJournal(sys.argv[1])
for i in range(int(sys.argv[3])):
    journal.save(sys.argv[2], f"k{i}", np.zeros((8, 8), np.uint8), binary_scheme())
"""


@pytest.mark.reliability("concurrency", "two windows (processes) autosave into one journal at once")
def test_two_processes_autosaving_at_once_keep_every_entry(journal, tmp_path):
    """Two windows on different folders share the journal; each autosave is a read, a change
    and a write of its list. Without the lock two processes saving 150 entries each kept 171."""
    import subprocess
    import sys

    folders = [tmp_path / "ws-a", tmp_path / "ws-b"]
    runs = [subprocess.Popen([sys.executable, "-c", SAVER, str(journal.directory), str(f), "100"])
            for f in folders]
    assert [r.wait(timeout=120) for r in runs] == [0, 0]
    assert [len(journal.entries(f)) for f in folders] == [100, 100]
    assert journal.discard(folders[0], "k0") and len(journal.entries()) == 199


def test_discard_and_clear_create_nothing_where_no_journal_is(tmp_path):
    journal = RecoveryJournal(tmp_path / "never-written")
    assert not journal.discard(tmp_path / "ws", "k") and journal.clear() == 0
    assert not journal.directory.exists()


def test_another_live_windows_autosave_is_neither_recovered_nor_removed(journal, tmp_path):
    """Entries name the process that wrote them: another window of this host that still runs
    keeps its own; one that died (a crash) left its entries to recover."""
    import socket
    import subprocess
    import sys
    from dataclasses import replace

    from unet_desktop.core.folder.autosave import this_process

    ws = tmp_path / "ws"
    mine = journal.save(ws, "a.png", np.full((4, 4), 2, np.uint8), trimap_scheme())
    assert mine.owner == this_process() and mine.mine and mine.left_behind
    host = socket.gethostname()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    live = replace(journal.save(ws, "b.png", np.ones((4, 4), np.uint8), trimap_scheme()),
                   owner=f"{host}:{os.getppid()}")  # pytest's parent: alive
    dead = replace(journal.save(ws, "c.png", np.ones((4, 4), np.uint8), trimap_scheme()),
                   owner=f"{host}:{gone.stdout.strip()}")
    older = replace(journal.save(ws, "d.png", np.ones((4, 4), np.uint8), trimap_scheme()),
                    owner="")  # a journal from before owners were recorded
    journal._write({e.ident: e for e in (mine, live, dead, older)})
    assert [e.key for e in journal.left_behind(ws)] == ["a.png", "c.png", "d.png"]
    assert not journal.discard(ws, "b.png")  # the live window's edits are not the ones saved
    assert journal.clear(ws) == 1  # this window's: the leftovers wait for their recovery
    assert [e.key for e in journal.entries(ws)] == ["b.png", "c.png", "d.png"]
    assert journal.discard(ws, "c.png") and journal.discard(ws, "d.png")  # saved by this one
    assert [e.key for e in journal.entries(ws)] == ["b.png"]


def test_two_windows_autosaving_one_image_keep_an_entry_each(journal, tmp_path):
    """A window's autosave replaces only its own entry of the image; one recovered into memory
    is adopted: it is then this window's to save or clear."""
    import socket
    import subprocess
    import sys
    from dataclasses import replace

    ws = tmp_path / "ws"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    crashed = f"{socket.gethostname()}:{gone.stdout.strip()}"
    theirs = replace(journal.save(ws, "a.png", np.full((4, 4), 3, np.uint8), trimap_scheme()),
                     owner=crashed, mask_file="theirs.png")
    journal.mask_path(journal.get(ws, "a.png")).rename(journal.mask_path(theirs))
    journal._write({theirs.ident: theirs})
    mine = journal.save(ws, "a.png", np.full((4, 4), 1, np.uint8), trimap_scheme())
    assert {e.owner for e in journal.entries(ws)} == {crashed, mine.owner}
    assert journal.get(ws, "a.png") == mine
    assert [e.owner for e in journal.left_behind(ws)] == [mine.owner]  # the newest of a.png
    journal.clear(ws)  # this window quits without saving: the crashed one's stays
    assert journal.entries(ws) == [theirs]
    adopted = journal.adopt(theirs)  # recovered into a read-only window's memory
    assert adopted.mine and journal.entries(ws) == [adopted]
    np.testing.assert_array_equal(journal.load(adopted, trimap_scheme()), np.full((4, 4), 3))
    journal.save(ws, "a.png", np.full((4, 4), 2, np.uint8), trimap_scheme())
    assert len(journal.entries(ws)) == 1 and not journal.mask_path(theirs).exists()
