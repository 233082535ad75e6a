"""Every reader under seeded mutations of real samples: nothing crashes, no good state is lost, bad records
are counted exactly where that is certain (the long run is ``make fuzz``; see tests/fuzz/)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.fuzz.mutators import MUTATIONS, mutate
from tests.fuzz.oracle import run_case
from tests.fuzz.samples import all_samples

SEEDS = (0, 1)
SAMPLES = sorted(all_samples())


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("name", SAMPLES)
def test_reader_survives_mutations(name, mutation, folder):
    sample = all_samples()[name]
    failures = []
    for seed in SEEDS:
        out = run_case(sample, mutation, seed, folder, analyze=seed == 0 and mutation in ("byte_flip", "garbage"))
        if out.failed:
            failures.append(out.describe() + ("\n" + out.note if out.status == "crash" else ""))
    assert not failures, "\n".join(failures)


def test_mutants_are_seeded_and_damaging():
    """The same seed gives the same bytes; a mutation changes the file and says which records it left."""
    sample = all_samples()["sbs"]
    for mutation in MUTATIONS:
        a, b = mutate(sample, mutation, 3), mutate(sample, mutation, 3)
        assert a.data == b.data and a.kept == b.kept
        if mutation not in ("reorder", "duplicate"):
            assert a.data != sample.build() or mutation == "gzip_damage"
        assert len(a.kept) <= len(sample.records)


def test_the_oracle_catches_a_lost_record(folder, monkeypatch):
    """A reader that drops the first good state is caught as losing one (the oracle is not blind)."""
    import tests.fuzz.oracle as oracle

    real = oracle.read

    def lossy(sample, path):
        df, bad = real(sample, path)
        return (df.slice(1) if not path.name.startswith("clean-") else df), bad

    monkeypatch.setattr(oracle, "read", lossy)
    out = run_case(all_samples()["cot"], "garbage", 0, folder)
    assert out.lost == 1 and out.failed


@pytest.mark.parametrize("name, mutation", [("csv", "byte_flip"), ("sbs", "gzip_damage"), ("trace", "truncate")])
def test_cli_exit_status_is_0_or_2_with_one_line(name, mutation, tmp_path):
    """Through ``skyfence ingest``: exit 0, or 2 with a single line on stderr; never a traceback."""
    sample = all_samples()[name]
    m = mutate(sample, mutation, 1)
    path = tmp_path / (sample.filename + (".gz" if m.gzip else ""))
    path.write_bytes(m.data)
    proc = subprocess.run([sys.executable, "-m", "skyfence", "ingest", "--source", str(path), "--out",
                           str(tmp_path / "out"), "-q"], capture_output=True, text=True)
    assert proc.returncode in (0, 2), proc.stderr
    assert "Traceback" not in proc.stderr
    if proc.returncode == 2:
        assert len(proc.stderr.strip().splitlines()) == 1
