"""The equation catalogue as data (explained for learners in resources/equations.md):
shared by the stage results, the equations panel and the tests. `{l}` and `{p}` (= l-1)
are filled per layer."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Equation:
    id: str
    phase: str  # "forward" | "loss" | "backward" | "update"
    title: str
    row: str  # plain-text form, row-batch convention (the engine's)
    column: str  # plain-text form, column convention (seeds 002 and 003)
    sources: str
    note: str = ""  # a slip in the sources, why this is an approximation, or what is easily misread
    # where the network diagram lights it: "weights" (the edges of layer l and the two columns
    # they join), "layer" (the nodes of layer l) or "previous" (the nodes of layer l-1)
    lights: str = "layer"


CATALOGUE: dict[str, Equation] = {e.id: e for e in (
    Equation("F1", "forward", "pre-activation of layer {l}",
             "Z{l} = A{p} W{l} + b{l}", "Z{l} = W{l} A{p} + b{l}",
             "[000] eq. 1, 4; [002] eq. 2, 7, 9; [003] Forward Propagation",
             "[003]'s summary writes Z(2) = W(1) A(1) + B(2); the weight is W(2).", lights="weights"),
    Equation("F2", "forward", "activation of layer {l}",
             "A{l} = g{l}(Z{l})", "A{l} = g{l}(Z{l})",
             "[000] eq. 2, 3, 5, 6; [002] eq. 4, 8, 10; [001] ch. 4, 8"),
    Equation("L-CE", "loss", "cross-entropy loss",
             "L = -r Σ_i Σ_k Y[i,k] log A{l}[i,k]", "L = -r Σ_i Σ_k Y[k,i] log A{l}[k,i]",
             "[000] eq. 7, 8; [003] worked example; [001] ch. 7"),
    Equation("L-MSE", "loss", "squared-error loss",
             "L = r · ½ Σ_i ‖A{l}[i,:] − Y[i,:]‖²", "L = r · ½ Σ_i ‖A{l}[:,i] − Y[:,i]‖²",
             "[002] eq. 11; [001] ch. 4, 6, 8",
             "[003] uses ‖a − y‖² without the ½, so its delta carries a factor 2."),
    Equation("B1-CE", "backward", "output delta, softmax + cross-entropy",
             "Δ{l} = A{l} − Y", "Δ{l} = A{l} − Y",
             "[000] eq. 9-22; [001] EqA1.1; [003] appendix"),
    Equation("B1-MSE", "backward", "output delta, element-wise output + squared error",
             "Δ{l} = (A{l} − Y) ⊙ g{l}'(Z{l})", "Δ{l} = (A{l} − Y) ⊙ g{l}'(Z{l})",
             "[001] ch. 5.3.1, 6.3; [003] δ(L) = 2(a − y) ⊙ μ'(z)"),
    Equation("B1-SMSE", "backward", "output delta, softmax + squared error (exact)",
             "Δ{l}[i,:] = A{l}[i,:] ⊙ (E[i,:] − A{l}[i,:]·E[i,:]),  E = A{l} − Y",
             "Δ{l}[:,i] = A{l}[:,i] ⊙ (E[:,i] − A{l}[:,i]·E[:,i]),  E = A{l} − Y",
             "[002] eq. 12-14"),
    Equation("B1-APX", "backward", "output delta, the approximation of Neural Network with Hidden Layers",
             "Δ{l} ≈ A{l} − Y", "Δ{l} ≈ A{l} − Y",
             "[002] eq. 15-16",
             "An approximation: not the gradient of the squared-error loss [002] eq. 11 "
             "(the exact form is B1-SMSE)."),
    Equation("B2", "backward", "weight gradient of layer {l}",
             "dL/dW{l} = r · A{p}ᵀ Δ{l}", "dL/dW{l} = r · Δ{l} A{p}ᵀ",
             "[000] eq. 23-25, 35-37; [002] eq. 17, 22; [003] summary; [001] Eq 3",
             "[002]'s matrix form of eq. 22 drops the 1/M its component form carries.", lights="weights"),
    Equation("B3", "backward", "bias gradient of layer {l}",
             "dL/db{l} = r · Σ_i Δ{l}[i,:]", "dL/db{l} = r · Σ_i Δ{l}[:,i]",
             "[000] eq. 26-28, 38-40; [002] eq. 18-19, 23-25; [003] summary",
             "[003]'s summary sums Δ(1) for db(2), layer 2's bias gradient; it is Δ(2)."),
    Equation("B4", "backward", "gradient flowing into layer {p}",
             "dL/dA{p} = Δ{l} W{l}ᵀ", "dL/dA{p} = W{l}ᵀ Δ{l}",
             "[000] eq. 29-31; [001] ch. 5.3.1",
             "Per sample, like Δ: row i is the derivative of sample i's own loss; with the mean, the "
             "batch's ∂L/∂A is 1/m of it (the 1/m comes in at B2 and B3). "
             "[000] eq. 31 writes W2ᵀ · dL/dz2 (column order) in a row-batch derivation.", lights="weights"),
    Equation("B5", "backward", "delta of layer {p}",
             "Δ{p} = dL/dA{p} ⊙ g{p}'(Z{p})", "Δ{p} = dL/dA{p} ⊙ g{p}'(Z{p})",  # ⊙ in the typeset forms' order
             "[000] eq. 32-34; [003] δ recursion; [001] δ_l = (W_(l+1)ᵀ δ_(l+1)) ⊙ σ'(z_l)",
             "[003] writes its recursion for layer ℓ as ReLU'(Z(1)) ⊙ (W(1))ᵀ Δ(ℓ); it is "
             "ReLU'(Z(ℓ−1)) ⊙ (W(ℓ))ᵀ Δ(ℓ).", lights="previous"),
    Equation("U1", "update", "update of layer {l}",
             "W{l} ← W{l} − α dL/dW{l},  b{l} ← b{l} − α dL/db{l}",
             "W{l} ← W{l} − α dL/dW{l},  b{l} ← b{l} − α dL/db{l}",
             "[002] eq. 28-29; [003] W_new; [001] ch. 4-8", lights="weights"),
)}


# each activation's name in the plain-text equations and in the typeset ones
ACTIVATION_SYMBOLS = {"sigmoid": ("σ", r"\sigma"), "relu": ("ReLU", r"\mathrm{ReLU}"), "tanh": ("tanh", r"\tanh"),
                      "leaky_relu": ("LReLU", r"\mathrm{LReLU}"), "identity": ("id", r"\mathrm{id}"),
                      "softmax": ("softmax", r"\mathrm{softmax}")}


def equation_text(eq_id: str, layer: int, column: bool = False, bias: bool = True,
                  reduction: str | None = None, activations: dict[int, str] | None = None) -> str:
    """The equation in plain text. Given the network's `reduction` and each layer's
    activation, r and g_l are written as the typeset equation has them (1/m or nothing; σ,
    ReLU, ...); without them the catalogue's general form stays."""
    e = CATALOGUE[eq_id]
    text = (e.column if column else e.row).format(l=layer, p=layer - 1)
    if not bias:  # a network without biases shows no bias terms
        text = text.replace(f" + b{layer}", "").replace(f",  b{layer} ← b{layer} − α dL/db{layer}", "")
    if reduction is not None:
        mean = reduction == "mean"
        text = text.replace("r · ", "(1/m) · " if mean else "").replace("-r ", "-(1/m) " if mean else "-")
    if activations:
        text = re.sub(r"g(\d+)(?=['(])", lambda m: ACTIVATION_SYMBOLS[activations[int(m.group(1))]][0], text)
    return text


def lit_layers(eq_id: str, layer: int) -> tuple[int, int]:
    """The first and last column of the network diagram the equation works on (0 is the input)."""
    lights = CATALOGUE[eq_id].lights
    return (layer - 1, layer) if lights == "weights" else (layer - 1,) * 2 if lights == "previous" else (layer, layer)


def equation_title(eq_id: str, layer: int) -> str:
    return CATALOGUE[eq_id].title.format(l=layer, p=layer - 1)
