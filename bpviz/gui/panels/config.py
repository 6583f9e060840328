"""The configuration editor: preset, data set, layer sizes, activations, pairing,
learning rate, batch, seed, initialisation, dtype, biases, reduction, per-sample.
Apply validates first; an impossible setting is explained and nothing changes. The form
shows the running configuration, or says that an edit is not applied yet."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QDoubleSpinBox, QFormLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from bpviz.engine.activations import HIDDEN_ACTIVATIONS
from bpviz.engine.config import DTYPES, INITS, REDUCTIONS, ConfigError, NetConfig
from bpviz.engine.losses import OUTPUT_LOSSES
from bpviz.engine.presets import PRESETS
from bpviz.runs import DATASETS, fit_to_known

PENDING = "color: #9a6700;"  # amber: an edit that is not running yet
ERROR = "color: #b3261e;"


class ConfigDock(QDockWidget):
    def __init__(self, controller, parent=None):
        super().__init__("Settings", parent)
        self.setObjectName("dock-config")
        self.controller = controller
        host = QWidget()
        form = QFormLayout()
        self.preset = QComboBox()
        self.preset.addItems(list(PRESETS))
        self.preset.setToolTip("\n".join(f"{p.name}: {p.description}" for p in PRESETS.values()))
        self.preset.activated.connect(lambda _: self.load_preset(self.preset.currentText()))
        self.dataset = QComboBox()
        self.dataset.addItems(list(DATASETS))
        self.dataset.setToolTip("Picking a data set sizes the input and output layers and picks an output/loss "
                                "that fits it; the hidden layers are kept")
        self.dataset.activated.connect(lambda _: self.fit_to_dataset())
        self.sizes = QLineEdit()
        self.sizes.setToolTip("Layer sizes from inputs to outputs, e.g. 3,4,1 or 784,128,10")
        self.hidden = QComboBox()
        self.hidden.addItems(list(HIDDEN_ACTIVATIONS))
        self.output_loss = QComboBox()
        for key, pair in OUTPUT_LOSSES.items():
            self.output_loss.addItem(pair.label, key)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(-1e6, 1e6)  # out-of-range values are explained by validation, not clipped
        self.lr.setSingleStep(0.01)
        self.batch = QSpinBox()
        self.batch.setRange(0, 1_000_000)
        self.batch.setSpecialValueText("whole set")  # 0: the batch is the whole data set, and says so
        self.batch.setToolTip("Samples per training step; 0 (\"whole set\") means the whole data set")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.init = QComboBox()
        self.init.addItems(list(INITS))
        self.dtype = QComboBox()
        self.dtype.addItems(list(DTYPES))
        self.reduction = QComboBox()
        self.reduction.addItems(list(REDUCTIONS))
        self.bias = QCheckBox("biases")
        self.per_sample = QCheckBox("build gradients sample by sample")
        for combo in (self.preset, self.dataset, self.hidden, self.output_loss, self.init, self.dtype, self.reduction):
            # long item texts (seed 002's pairing) must not set the dock's width
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        self.output_loss.setToolTip("\n".join(p.label for p in OUTPUT_LOSSES.values()))
        for label, w in (("Preset", self.preset), ("Data set", self.dataset), ("Layer sizes", self.sizes),
                         ("Hidden activation", self.hidden), ("Output / loss", self.output_loss),
                         ("Learning rate", self.lr), ("Batch size", self.batch), ("Seed", self.seed),
                         ("Initialisation", self.init), ("dtype", self.dtype), ("Reduction", self.reduction)):
            form.addRow(label, w)
        for box in (self.bias, self.per_sample):  # across both columns: the form fits a narrow dock
            form.addRow(box)
        self.apply_btn = QPushButton("Apply")
        self.apply_btn.setToolTip("Rebuild the network with these settings (Ctrl+Return)")
        self.apply_btn.setShortcut("Ctrl+Return")
        self.apply_btn.clicked.connect(self.apply)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR)
        self.running: tuple[NetConfig, str] | None = None  # what the worker runs, as last reported
        self._showing = False
        for w in (self.preset, self.dataset, self.hidden, self.output_loss, self.init, self.dtype, self.reduction):
            w.currentIndexChanged.connect(self._edited)
        for w in (self.lr, self.batch, self.seed):
            w.valueChanged.connect(self._edited)
        self.sizes.textChanged.connect(self._edited)
        self.bias.toggled.connect(self._edited)
        self.per_sample.toggled.connect(self._edited)
        lay = QVBoxLayout(host)
        lay.addLayout(form)
        lay.addWidget(self.apply_btn)
        lay.addWidget(self.message)
        lay.addStretch(1)
        self.setWidget(host)

    def show_running(self, cfg: NetConfig, dataset: str) -> None:
        """The worker now runs `cfg` on `dataset`: the form shows it."""
        self.running = (cfg, dataset)
        self.show_config(cfg, dataset)

    def show_config(self, cfg: NetConfig, dataset: str) -> None:
        self._showing = True
        try:
            self._fill(cfg, dataset)
        finally:
            self._showing = False
        self._edited()

    def _fill(self, cfg: NetConfig, dataset: str) -> None:
        match = [p.name for p in PRESETS.values() if p.config == cfg and p.dataset == dataset]
        if self.preset.findText("custom") < 0:
            self.preset.addItem("custom")
        self.preset.setCurrentText(match[0] if match else "custom")
        if self.dataset.findText(dataset) < 0:  # the user's own data, opened by its path
            self.dataset.addItem(dataset)
            self.dataset.setItemData(self.dataset.count() - 1, f"{dataset} (unverified: your data)", Qt.ToolTipRole)
        self.dataset.setCurrentText(dataset)
        self.sizes.setText(",".join(map(str, cfg.sizes)))
        self.hidden.setCurrentText(cfg.hidden)
        self.output_loss.setCurrentIndex(self.output_loss.findData(cfg.output_loss))
        self.lr.setValue(cfg.lr)
        self.batch.setValue(cfg.batch_size)
        self.seed.setValue(cfg.seed)
        self.init.setCurrentText(cfg.init)
        self.dtype.setCurrentText(cfg.dtype)
        self.reduction.setCurrentText(cfg.reduction)
        self.bias.setChecked(cfg.bias)
        self.per_sample.setChecked(cfg.per_sample)

    def _edited(self, *_) -> None:
        """Say whether the form differs from what runs."""
        if self._showing or self.running is None:
            return
        try:
            now = self.read()
        except ConfigError as e:
            self.message.setStyleSheet(ERROR)
            self.message.setText(f"not applied: {e}")
            return
        if now == self.running:
            self.message.clear()
            return
        cfg, dataset = self.running
        self.message.setStyleSheet(PENDING)
        self.message.setText(f"Edited, not applied yet: press Apply (Ctrl+Return). Running: "
                             f"{'-'.join(map(str, cfg.sizes))} {cfg.hidden} on {dataset}.")

    def fit_to_dataset(self) -> None:
        """After picking a data set: its input and output sizes and a fitting output/loss."""
        try:
            cfg, dataset = self.read()
        except ConfigError:
            return
        fitted, _ = fit_to_known(cfg, dataset)
        if fitted != cfg:
            self.show_config(fitted, dataset)

    def load_preset(self, name: str) -> None:
        if name not in PRESETS:
            return
        p = PRESETS[name]
        self.show_config(p.config, p.dataset)

    def read(self) -> tuple[NetConfig, str]:
        """The configuration in the form; raises ConfigError with a one-line reason."""
        try:
            sizes = tuple(int(s) for s in self.sizes.text().replace(" ", "").split(","))
        except ValueError:
            raise ConfigError(f"layer sizes must be whole numbers separated by commas, e.g. 3,4,1 "
                              f"(got {self.sizes.text()!r})") from None
        cfg = NetConfig(sizes, hidden=self.hidden.currentText(), output_loss=self.output_loss.currentData(),
                        bias=self.bias.isChecked(), reduction=self.reduction.currentText(),
                        init=self.init.currentText(), seed=self.seed.value(), dtype=self.dtype.currentText(),
                        lr=self.lr.value(), batch_size=self.batch.value(), per_sample=self.per_sample.isChecked())
        return cfg.validate(), self.dataset.currentText()

    def apply(self) -> bool:
        try:
            cfg, dataset = self.read()
            self.controller.rebuild(cfg, dataset)
        except ConfigError as e:
            self.message.setStyleSheet(ERROR)
            self.message.setText(f"not applied: {e}")
            return False
        return True

    def apply_failed(self, msg: str) -> None:
        """The worker refused the edit: the form keeps it and says it is not running."""
        self.message.setStyleSheet(ERROR)
        self.message.setText(msg if msg.startswith("not applied") else f"not applied: {msg}")
