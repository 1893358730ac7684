"""Measurement sessions: a project whose pins match a measured session gets that session's rows
and crossover; rows of a session past the skill's window never speak for other projects."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecolint import knowledge
from ecolint.config import Config
from ecolint.engine import Selection, run

KB = knowledge.load_all()

SERVE = """\
import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig

quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
model = AutoModelForCausalLM.from_pretrained("{model}", quantization_config=quant)
"""


def _findings(tmp_path: Path, model: str, pins: str | None, gpu: str = "RTX 5090") -> list:
    (tmp_path / "serve.py").write_text(SERVE.format(model=model), encoding="utf-8")
    if pins is not None:
        (tmp_path / "requirements.txt").write_text(pins, encoding="utf-8")
    result = run([tmp_path], KB, Config(), Selection(codes=["ECO102"], gpu=gpu), cwd=tmp_path)
    return result.findings


def test_every_row_belongs_to_a_known_session_on_its_own_gpu() -> None:
    for row in KB.rows.values():
        session = KB.sessions[row["session"]]
        assert session.gpu == row["gpu"], row["id"]


def test_the_2026_09_rtx5090_session_is_past_the_skills_window_and_the_2026_01_one_is_not() -> None:
    assert KB.sessions["rtx5090-2026-09-20"].beyond_window
    assert not KB.sessions["rtx5090-2026-01"].beyond_window


def test_without_matching_pins_the_skills_crossover_decides_and_no_late_session_row_is_quoted(tmp_path: Path) -> None:
    found = _findings(tmp_path, "Qwen/Qwen2.5-3B-Instruct", pins=None)
    assert [f.code for f in found] == ["ECO102"]  # 3B is below the skill's Blackwell crossover (5.2B)
    assert all(not row["id"].startswith("s0920-") for row in found[0].evidence)


def test_pins_matching_the_2026_09_session_move_the_crossover_to_1_8b(tmp_path: Path) -> None:
    pins = "torch==2.14.0\nbitsandbytes==0.50.2\n"
    assert _findings(tmp_path, "Qwen/Qwen2.5-3B-Instruct", pins) == []  # 3B is above 1.8B there


def test_a_finding_under_a_matched_session_quotes_its_rows_and_says_how_it_differs(tmp_path: Path) -> None:
    pins = "torch~=2.14.0\nbitsandbytes>=0.50\n"
    (finding,) = _findings(tmp_path, "Qwen/Qwen2-1.5B-Instruct", pins)
    assert "1.8B" in finding.message
    assert finding.evidence and all(row["session"] == "rtx5090-2026-09-20" for row in finding.evidence)
    notes = " ".join(finding.notes)
    assert "session rtx5090-2026-09-20" in notes and "the skill says 5.2B" in notes
    # matched, so bitsandbytes 0.50 is what was measured, not drift past the window
    assert "stack newer" not in notes and finding.confidence == 3


@pytest.mark.parametrize(
    "pins",
    [
        "torch==2.14.0\n",  # bitsandbytes unpinned: no match
        "torch==2.13.0\nbitsandbytes==0.50.2\n",  # another torch minor
    ],
)
def test_a_partial_or_different_stack_matches_no_session(tmp_path: Path, pins: str) -> None:
    found = _findings(tmp_path, "Qwen/Qwen2.5-3B-Instruct", pins)
    assert [f.code for f in found] == ["ECO102"]
    assert "measured session" not in " ".join(found[0].notes)


def test_a_session_on_another_architecture_is_never_matched(tmp_path: Path) -> None:
    pins = "torch==2.14.0\nbitsandbytes==0.50.2\n"
    found = _findings(tmp_path, "Qwen/Qwen2.5-3B-Instruct", pins, gpu="RTX 4090")
    assert [f.code for f in found] == ["ECO102"]  # Ada keeps its 3.9B crossover
    assert "measured session" not in " ".join(found[0].notes)
