"""The scale benchmark's verdicts: skipped parts and sizes say so, the idle phase is judged."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scale_bench", ROOT / "benchmarks/scale_bench.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_bench"] = module
    spec.loader.exec_module(module)
    return module


def _console(bench: ModuleType, *, idle_cpu: float, cpu: float) -> object:
    return bench.Figures(
        first_row=1.0,
        rss_first=50.0,
        rss_end=51.0,
        idle_cpu=idle_cpu,
        idle_refreshes=10,
        idle_seconds=11.0,
        cpu=cpu,
        p50_ms=10.0,
        p99_ms=20.0,
    )


def _stock(bench: ModuleType) -> object:
    figures = _console(bench, idle_cpu=50.0, cpu=60.0)
    figures.rss_first = figures.rss_end = 60.0
    return figures


def test_a_skipped_part_is_skipped_not_failed(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    result = bench.SizeResult(10_000, ours=_console(bench, idle_cpu=5.0, cpu=30.0))
    result.stock = _stock(bench)
    failures, skipped = bench.report([result], ["cli"])
    assert failures == []
    assert skipped == ["CLI vs SDK at 10,000 (--skip cli)"]
    printed = capsys.readouterr().out
    assert "CLI json vs SDK" in printed
    assert "skipped" in printed.split("CLI json vs SDK", 1)[1].splitlines()[0]
    assert "nan" not in printed


def test_refresh_cpu_is_judged_on_the_idle_phase_not_the_key_phase(bench: ModuleType) -> None:
    quiet = bench.SizeResult(10_000, ours=_console(bench, idle_cpu=5.0, cpu=30.0))
    quiet.stock = _stock(bench)
    busy = bench.SizeResult(10_000, ours=_console(bench, idle_cpu=12.0, cpu=8.0))
    busy.stock = _stock(bench)
    assert bench.report([quiet], ["cli"])[0] == []
    (failure,) = bench.report([busy], ["cli"])[0]
    assert "refresh CPU 12.0 %" in failure


def test_a_part_that_ran_and_measured_nothing_fails(bench: ModuleType) -> None:
    result = bench.SizeResult(10_000)  # the console ran (not skipped) but measured nothing
    failures, skipped = bench.report([result], ["cli"])
    assert skipped == ["CLI vs SDK at 10,000 (--skip cli)"]
    assert any("refresh CPU" in failure and "not measured" in failure for failure in failures)


def test_targets_at_sizes_not_run_are_listed_as_skipped(bench: ModuleType) -> None:
    assert bench.unmeasured_sizes([10_000]) == [
        "CLI vs SDK at 100,000 (size not run)",
        "first row vs stock at 100,000 (size not run)",
        "key p99 at 50,000 (size not run)",
        "key p99 at 100,000 (size not run)",
    ]
    assert bench.unmeasured_sizes([1_000, 10_000, 50_000, 100_000]) == []
