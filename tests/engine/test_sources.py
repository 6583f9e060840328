"""The documents behind the equations, named in plain words (Qt-free)."""
import re

from bpviz.engine.equations import CATALOGUE
from bpviz.engine.presets import PRESETS
from bpviz.engine.sources import (SOURCES, STAGE_CODES, explain_references, plain_words, references, sources_html,
                                  stage_meaning)


def test_every_reference_of_every_equation_names_a_known_document():
    for eq in CATALOGUE.values():
        keys = re.findall(r"\[(\d{3})\]", eq.sources)
        assert keys, eq.id
        assert [k for k, _ in references(eq.sources)] == keys, eq.id
        lines = explain_references(eq.sources).splitlines()
        assert len(lines) == len(keys)
        for k, line in zip(keys, lines):
            assert SOURCES[k].title in line, (eq.id, line)


def test_a_reference_keeps_where_it_points():
    assert references("[000] eq. 1, 4; [003] Forward Propagation") == [("000", "eq. 1, 4"),
                                                                       ("003", "Forward Propagation")]


def test_plain_words_leave_no_internal_numbers():
    texts = [p.description for p in PRESETS.values()] + [e.title for e in CATALOGUE.values()] + \
            [e.note for e in CATALOGUE.values()] + ["samples are columns (seeds 002 and 003)"]
    for text in texts:
        out = plain_words(text)
        assert not re.search(r"seeds? \d{3}|\[\d{3}\]", out), out
    assert SOURCES["001"].title in plain_words(PRESETS["toy"].description)


def test_the_sources_page_lists_four_documents_in_the_projects_words():
    html = sources_html()
    for s in SOURCES.values():
        assert s.title in html and s.contributes in html
    assert "shared" not in html and "seed" not in html.lower()


def test_every_stage_code_of_the_catalogue_is_explained():
    codes = {c for c, _ in STAGE_CODES}
    for eq in CATALOGUE:
        assert eq.split("-")[0] in codes, eq
        assert stage_meaning(eq).startswith(eq.split("-")[0] + ":")
