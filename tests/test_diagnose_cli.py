"""python -m stablernn.diagnose: a plain nn.LSTM language model end to end, and every refusal before
any work (one line on stderr, exit status 2, no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from conftest import ROOT
from test_diagnose import TokenLM

TESTS = Path(__file__).resolve().parent


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT / "lib")]), "STABLERNN_STATIC": ""}
    return subprocess.run([sys.executable, "-m", "stablernn.diagnose", *args, "--no-progress", "--threads", "1"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A plain LSTM language model trained briefly on a repeating token pattern, saved three ways."""
    folder = tmp_path_factory.mktemp("cli")
    torch.manual_seed(0)
    model = TokenLM(nn.LSTM, vocab=12, emb=8, hidden=16)
    stream = torch.arange(12).repeat(41)[None, :481]
    x, y = stream[:, :-1].reshape(8, -1), stream[:, 1:].reshape(8, -1)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x).reshape(-1, 12), y.reshape(-1))
        loss.backward()
        opt.step()
    torch.save(model, folder / "pickled.pt")
    torch.save(model.core.state_dict(), folder / "core_state.pt")
    torch.save(model.state_dict(), folder / "own_state.pt")
    library_layout = {k.replace("emb.", "embedding.").replace("core.", "rnn.").replace("head.", "readout."): v
                      for k, v in model.state_dict().items()}
    torch.save(library_layout, folder / "state.pt")
    torch.save(stream[0, :-1].reshape(6, -1), folder / "tokens.pt")
    torch.save({"X": x, "Y": y}, folder / "pairs.pt")
    (folder / "corpus").mkdir()
    (folder / "corpus" / "train.txt").write_text("a b c\n")
    return folder, float(loss.detach())


def test_a_plain_lstm_language_model_end_to_end(files):
    folder, trained_loss = files
    done = _run("pickled.pt", "pairs.pt", "--allow-pickle", "--out", "report", "--lags", "8", cwd=folder)
    assert done.returncode == 0, done.stderr
    doc = json.loads((folder / "report" / "diagnosis.json").read_text())
    assert doc["model"]["class"] == "TokenLM" and doc["model"]["core"] == "core" and doc["data"]["loss"] == "ce"
    assert doc["meta"]["command"].startswith("python -m stablernn.diagnose pickled.pt pairs.pt")
    assert doc["truncation"]["full"] == pytest.approx(float(torch.tensor(trained_loss).exp()), rel=0.05)
    assert "certificate" in done.stdout and "wrote" in done.stdout
    assert (folder / "report" / "diagnosis.html").stat().st_size > 100_000  # plotly inlined
    state = _run("state.pt", "tokens.pt", "--arch", "lstm", "--out", "report2", "--lags", "8", cwd=folder)
    assert state.returncode == 0, state.stderr
    again = json.loads((folder / "report2" / "diagnosis.json").read_text())
    assert again["certificate"]["lam"] == pytest.approx(doc["certificate"]["lam"], rel=1e-6)


REFUSALS = [
    (("missing.pt", "tokens.pt"), "MODEL 'missing.pt' is not a file"),
    (("state.pt", "missing.pt", "--arch", "lstm"), "DATA 'missing.pt' does not exist"),
    (("state.pt", "README", "--arch", "lstm"), "unknown kind"),
    (("state.pt", "corpus", "--arch", "lstm"), "lacks valid.txt, test.txt"),
    (("pickled.pt", "tokens.pt"), "runs code from the file; pass --allow-pickle"),
    (("state.pt", "tokens.pt"), "is a state dict: pass --arch"),
    (("state.pt", "tokens.pt", "--arch", "gru"), "it looks like lstm"),
    (("own_state.pt", "tokens.pt", "--arch", "lstm"), "no recurrent weights"),
    (("core_state.pt", "tokens.pt", "--arch", "lstm"), "cannot take data"),
    (("state.pt", "pairs_float.pt", "--arch", "lstm"), "cannot take data"),
    (("state.pt", "tokens.pt", "--arch", "lstm", "--lags", "0"), "--lags must be an integer >= 1"),
    (("state.pt", "tokens.pt", "--arch", "lstm", "--tolerance", "2"), "--tolerance must be in (0, 1]"),
    (("state.pt", "tokens.pt", "--arch", "lstm", "--k", "4", "2"), "--k must be increasing"),
    (("state.pt", "tokens.pt", "--arch", "lstm", "--input-bound", "0.01"), "input_bound=0.01 is below"),
    (("state.pt", "tokens.pt", "--arch", "lstm", "--out", "tokens.pt"), "is a file, not a folder"),
]


@pytest.mark.parametrize("args, message", REFUSALS, ids=[m for _, m in REFUSALS])
def test_every_bad_input_is_refused_in_one_line(files, args, message):
    folder, _ = files
    (folder / "README").write_text("not data")
    torch.save(torch.rand(6, 39, 3), folder / "pairs_float.pt")
    done = _run(*args, cwd=folder)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (folder / "diagnosis.json").exists()


def test_help_says_pickles_run_code_and_loads_no_torch():
    code = ("import sys; from stablernn.diagnose.__main__ import parser; text = parser().format_help(); "
            "print('torch' in sys.modules, 'RUNS CODE' in text)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "lib")})
    assert out.stdout.split() == ["False", "True"], out.stderr
