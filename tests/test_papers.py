"""apac_lab.papers: every figure the kit quotes from a paper is in that paper's text, as quoted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apac_lab.papers import (
    CASSETTA_TABLE2, CASSETTA_TABLE3, CASSETTA_TABLE4, FIGURES, PAPERS, RIAD_ENGINEERING_RESULTS, figure, figures_of,
)

PAPERS_DIR = Path(__file__).resolve().parents[2] / "shared" / "papers"


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    if not PAPERS_DIR.is_dir():
        pytest.skip(f"the source papers are not at {PAPERS_DIR} (CI has them beside the checkout)")
    return {key: (PAPERS_DIR / meta["file"]).read_text() for key, meta in PAPERS.items()}


@pytest.mark.parametrize("key", sorted(FIGURES))
def test_every_quote_is_in_its_paper_letter_for_letter(texts, key):
    fig = FIGURES[key]
    assert fig.quote in texts[fig.paper], f"{key}: {fig.quote!r} is not in {PAPERS[fig.paper]['file']}"


@pytest.mark.parametrize("key", sorted(FIGURES))
def test_every_value_is_written_in_its_quote(key):
    fig = FIGURES[key]
    written = fig.shown.replace(",", "").replace("~", "").replace("%", "").replace(" ms", "").replace(" seconds", "")
    text = fig.quote.replace(",", "").replace("\\", "")
    if written.replace(".", "").isdigit():
        assert re.search(rf"(?<![\d.]){re.escape(written)}(?![\d])", text), (key, written)
        number = float(written) / (100 if fig.shown.endswith("%") or (fig.value < 1 and float(written) > 1) else 1)
        assert number == pytest.approx(fig.value)
    else:  # "1e-3" (LaTeX "1e^{-3}"), "111*9", "2x", "four": written as the paper writes it
        forms = {fig.shown, fig.shown.replace("e-", "e^{-") + "}"}
        assert any(form in text for form in forms), (key, forms)
        if "e-" in fig.shown:
            assert float(fig.shown) == fig.value


def test_table_rows_are_the_papers_rows_in_order(texts):
    text = texts["cassetta2023"]
    positions = [text.index(row["quote"]) for row in CASSETTA_TABLE2]
    assert positions == sorted(positions) and len(CASSETTA_TABLE2) == 6
    assert [r["mode"] for r in CASSETTA_TABLE3] == ["std", "mel", "stft", "mel+stft", "mel+stft+fsdd"]
    assert [round(100 * r["test_acc"], 1) for r in CASSETTA_TABLE4] == [91.4, 90.0, 84.7]


def test_rothmann_listener_counts_add_up():
    layers = [figure(f"rothmann2018.listener.lstm{i}").value for i in range(1, 5)]
    assert sum(layers) == figure("rothmann2018.listener.parameters").value == 451_800
    # Keras LSTM: 4 gates x (units x (inputs + units) + units)
    assert [4 * (u * (i + u) + u) for i, u in [(100, 50), (50, 250), (250, 50), (50, 100)]] == layers
    assert 8 * 100 / 250 == figure("rothmann2018.listener.compression").value


def test_unknown_keys_are_one_line_errors():
    with pytest.raises(KeyError, match="no paper figure 'tax2017.nothing'"):
        figure("tax2017.nothing")
    with pytest.raises(KeyError, match="unknown paper"):
        figures_of("smith1999")


def test_riad_engineering_results_are_the_slides_in_order(texts):
    text = texts["riad2021"]
    start = text.index("# **Engineering results**")
    tasks = [text.index(r["task"], start) for r in RIAD_ENGINEERING_RESULTS]
    assert tasks == sorted(tasks) and len(tasks) == 4
    # the verdicts follow the four tasks, in the same order (two are the same words)
    at, verdicts = tasks[-1], []
    for r in RIAD_ENGINEERING_RESULTS:
        at = text.index(r["verdict"], at + 1)
        verdicts.append(at)
    assert verdicts[-1] < text.index("# Qualitative analysis of filters")
