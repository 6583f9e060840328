"""The four documents the equations come from, and plain words for the short references
("[000] eq. 1, 4", "seed 001 ch. 8") that the equation catalogue and presets carry.
Qt-free: the Help menu, the equations panel's tooltips and the presets' tooltips use it."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    key: str  # "000": the number the catalogue's references use
    title: str
    author: str
    year: str
    short: str  # a few words that name it in a tooltip
    contributes: str


SOURCES: dict[str, Source] = {s.key: s for s in (
    Source("000", "Mathematics of Neural Network", "R. A. Rasyid", "2025", "Rasyid, Mathematics of Neural Network",
           "The 784-128-10 MNIST network (ReLU hidden layer, softmax output, cross-entropy) written with "
           "samples as rows, Z = XW + b; every forward and backward equation boxed and numbered, with the "
           "gradients averaged over a batch of 100. The `mnist` preset follows it."),
    Source("001", "The Maths of Deep Learning", "A. Punnen", "", "Punnen, The Maths of Deep Learning",
           "Gradient descent from scalars up, the chain rule as vector-Jacobian products, the Hadamard "
           "product, and the softmax + cross-entropy derivative. Its chapter 8 trains the 4-sample toy "
           "set with a 3-4-1 sigmoid network and prints the outputs before and after: the `toy` preset "
           "reproduces them."),
    Source("002", "Neural Network with Hidden Layers", "", "2024", "Neural Network with Hidden Layers (2024)",
           "Samples as columns, Z = WA + b; a softmax output trained with squared error, the exact gradient "
           "through the softmax, and the shortcut A − Y it then uses instead (an approximation, shown as "
           "such by the `mnist-approx` preset)."),
    Source("003", "Backpropagation Calculus", "N. Rui", "2024", "Rui, Backpropagation Calculus",
           "The chain rule for one neuron per layer, then any width; the delta recursion from layer to "
           "layer; sums over samples; and a 784-10-10 MNIST example trained on the full batch with "
           "α = 0.1 (the `mnist-10` preset)."),
)}

# "[000] eq. 1, 4" up to the next "; " — one reference and what it points at
_REF = re.compile(r"\[(\d{3})\]([^;\[]*)")
_SEED = re.compile(r"\bseeds? (\d{3})(?: and (\d{3}))?")


def cite(key: str) -> str:
    """One document as a reader would cite it: author, title, year."""
    s = SOURCES[key]
    who = f"{s.author}, " if s.author else ""
    when = f" ({s.year})" if s.year else ""
    return f"{who}“{s.title}”{when}"


def references(text: str) -> list[tuple[str, str]]:
    """The references in a sources line, as (document key, what it points at):
    "[000] eq. 1, 4; [003] summary" -> [("000", "eq. 1, 4"), ("003", "summary")]."""
    return [(k, where.strip(" ,.")) for k, where in _REF.findall(text) if k in SOURCES]


def explain_references(text: str) -> str:
    """Every reference of `text` on its own line, naming its document and where in it."""
    lines = []
    for key, where in references(text):
        lines.append(f"[{key}] {cite(key)}" + (f": {where}" if where else ""))
    return "\n".join(lines)


def plain_words(text: str) -> str:
    """`text` with internal numbers ("seed 001 ch. 8", "[002]'s") replaced by the documents'
    names, for anything a user reads."""
    def seed(m: re.Match) -> str:
        keys = [k for k in m.groups() if k]
        return " and ".join(f"“{SOURCES[k].title}”" for k in keys if k in SOURCES)
    text = _SEED.sub(seed, text)
    return re.sub(r"\[(\d{3})\]", lambda m: f"“{SOURCES[m.group(1)].title}”" if m.group(1) in SOURCES
                  else m.group(0), text)


def sources_html() -> str:
    """Help → Sources: each document, its title and what it gives bpviz."""
    rows = [f"<p><b>[{s.key}] {cite(s.key)}</b><br>{s.contributes}</p>" for s in SOURCES.values()]
    return ("<p>bpviz steps through the equations of these four documents. An equation's "
            "<i>Sources</i> line cites them by number, e.g. [000] eq. 4 is equation 4 of the first; "
            "hover a reference to see its document.</p>" + "".join(rows))


STAGE_CODES = (
    ("F1", "forward: the layer's pre-activation Z = A W + b"),
    ("F2", "forward: the activation A = g(Z)"),
    ("L", "the loss (L-CE cross-entropy, L-MSE squared error)"),
    ("B1", "backward: the output layer's delta Δ = dL/dZ"),
    ("B2", "backward: the weight gradient dL/dW"),
    ("B3", "backward: the bias gradient dL/db"),
    ("B4", "backward: the gradient passed to the layer below, dL/dA"),
    ("B5", "backward: that layer's delta Δ"),
    ("U1", "update: W ← W − α dL/dW (and b)"),
)


def stage_legend() -> str:
    """What the stage codes mean, one per line (for tooltips)."""
    return "\n".join(f"{code}  {what}" for code, what in STAGE_CODES)


def stage_meaning(eq_id: str) -> str:
    """The legend line of one equation id ("B1-CE" -> the B1 line)."""
    head = eq_id.split("-")[0]
    return next((f"{code}: {what}" for code, what in STAGE_CODES if code == head), eq_id)
