"""Drawing an input (issue 12, item 4): the drawn image becomes the sample's input and the
step is recomputed; exactly the values downstream of that sample change."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from bpviz.engine.config import NetConfig


@pytest.fixture
def window(qtbot, tmp_path):
    from bpviz.runs import load_run_data
    try:
        load_run_data("fashion-mnist", allow_download=False)
    except Exception as e:
        pytest.skip(f"Fashion-MNIST is not installed here ({e})")
    from bpviz.gui.window import MainWindow
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    cfg = NetConfig((784, 16, 10), hidden="relu", output_loss="softmax-ce", batch_size=8, init="he")
    win.controller.rebuild(cfg, "fashion-mnist")
    qtbot.waitUntil(lambda: win.controller.latest is not None and win.controller.latest.data_name == "fashion-mnist",
                    timeout=60000)
    yield win
    win.controller.shutdown()


def draw_and_wait(qtbot, window, monkeypatch, points) -> None:
    """Draw the focused sample's input as a stroke through (row, column) `points`, accept
    the dialog, and wait for the window to show the recomputed snapshot."""
    from bpviz.gui.widgets import draw

    def draw_a_stroke(dialog):
        dialog.canvas.clear()
        for row, col in points:
            dialog.canvas.paint_at(row, col)
        return draw.DrawInputDialog.Accepted
    monkeypatch.setattr(draw.DrawInputDialog, "exec", draw_a_stroke)
    c = window.controller
    serial = c.latest.serial
    assert window.draw_input()
    qtbot.waitUntil(lambda: c.latest.serial > serial, timeout=20000)


def test_the_canvas_paints_and_erases(qtbot):
    from bpviz.gui.widgets.draw import DrawCanvas
    c = DrawCanvas(np.zeros((28, 28)))
    qtbot.addWidget(c)
    c.paint_at(14.0, 10.0)
    assert c.image[14, 10] == 1.0 and c.image[0, 0] == 0.0 and 0 < c.image.sum() < 30
    c._erase = True
    c.paint_at(14.0, 10.0, erase=True)
    assert c.image[14, 10] == 0.0


def test_a_drawn_input_changes_exactly_its_sample_downstream(qtbot, window, monkeypatch):
    c = window.controller
    before_serial = c.latest.serial
    c.request_finish_pass()
    qtbot.waitUntil(lambda: c.latest.serial > before_serial, timeout=20000)
    before = c.latest
    c.set_focus(2)
    draw_and_wait(qtbot, window, monkeypatch, [(14.0, float(col)) for col in range(6, 22)])
    after = c.latest
    # named as the sample panel names it ("sample 2 of the batch (data set row r)")
    assert after.message.startswith(f"edited the input of data set row {after.batch_indices[2]};")
    x = after.arrays["X"]  # (8, 784)
    assert x[2].reshape(28, 28)[14, 10] == 1.0 and x[2].reshape(28, 28)[0, 0] == 0.0
    for name in ("X", "Z1", "A1", "Z2", "A2"):
        changed = np.flatnonzero(np.any(after.arrays[name] != before.arrays[name], axis=1))
        assert list(changed) == [2], name  # only the drawn sample's rows
    assert not np.array_equal(after.arrays["dW1"], before.arrays["dW1"])  # the batch gradient follows
    np.testing.assert_array_equal(after.arrays["W1"], before.arrays["W1"])  # the weights do not


def test_an_input_drawn_before_the_first_step_is_what_the_first_step_reads(qtbot, window, monkeypatch):
    c = window.controller
    assert c.latest.stage is None  # ready: the first batch is shown, and can be drawn into
    c.set_focus(3)

    draw_and_wait(qtbot, window, monkeypatch, [(float(row), 9.0) for row in range(4, 24)])
    ready = c.latest
    assert ready.stage is None and ready.message.startswith(f"edited the input of data set row {ready.batch_indices[3]};")
    drawn = ready.arrays["X"][3].reshape(28, 28)
    assert drawn[14, 9] == 1.0 and drawn[0, 0] == 0.0
    sample = next(p for p in window.panels if p.object_name == "sample")
    np.testing.assert_array_equal(sample.img.image, drawn)
    serial = c.latest.serial
    c.request_step()
    qtbot.waitUntil(lambda: c.latest.serial > serial and c.latest.stage is not None, timeout=20000)
    np.testing.assert_array_equal(c.latest.arrays["X"][3].reshape(28, 28), drawn)
    np.testing.assert_array_equal(c.latest.stage.batch_indices, ready.batch_indices)
