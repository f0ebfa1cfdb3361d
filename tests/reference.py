"""Reference numbers the tests compare against, each once, with where it comes from.

A test that pins a number imports it from here, so that a number quoted by several tests (or by a
test and the book) has one definition and one stated source. Numbers derived by hand give the
derivation in one line; published numbers give the paper and table; measured baselines say how
they were measured.
"""

from __future__ import annotations

# -- Chapter 1 and 4: the 2 x 2 example A = [[r, c], [0, r]] with r = 0.9, c = 1 ------------------

#: ||A||_2, derived by hand: the largest singular value of [[r, c], [0, r]] is (c + sqrt(c^2 + 4 r^2)) / 2
#: = (1 + sqrt(4.24)) / 2 = 1.52956; the book prints it to three decimals, 1.530.
NONNORMAL_NORM = 1.5296

#: max_k ||A^k||_2 and its k, derived by hand: A^k = [[a, b], [0, a]] with a = 0.9^k, b = k 0.9^(k-1),
#: so ||A^k||_2 = (b + sqrt(b^2 + 4 a^2)) / 2, largest at k = 9: (3.8742 + sqrt(15.009 + 0.6003)) / 2 = 3.9126.
NONNORMAL_PEAK = 3.9126
NONNORMAL_PEAK_K = 9

#: first k >= 1 with ||A^k||_2 < 1, from the same closed form: 1.0514 at k = 34, 0.9741 at k = 35.
NONNORMAL_FIRST_BELOW_ONE = 35

# -- Chapter 5: the context the truncation theorem asks for ---------------------------------------

#: min_context(0.9, L_x B_x, eps) for eps / (L_x B_x) = 1e-1, 1e-2, 1e-3, derived by hand: the smallest
#: k with 0.9^k / (1 - 0.9) <= eps / (L_x B_x) is ceil(ln(10 / ratio) / ln(1 / 0.9)) = ceil(43.7, 65.6, 87.4).
MIN_CONTEXT_09 = (44, 66, 88)

# -- Chapter 3: receptive fields ----------------------------------------------------------------------

#: WaveNet's block of ten layers with kernel 2 and dilations 1, 2, ..., 512 (van den Oord et al. 2016,
#: §2.1), derived by hand: R = 1 + sum (K - 1) d_l = 1 + (1 + 2 + ... + 512) = 1024.
WAVENET_RECEPTIVE_FIELD = 1024

# -- Generated tasks --------------------------------------------------------------------------------

#: MSE of always predicting 1 on the adding problem, derived by hand: the target u1 + u2 with u_i
#: uniform on [0, 1] has mean 1 and variance 2 / 12 = 1/6.
ADDING_CONSTANT_MSE = 1 / 6

# -- Polyphonic music (Chapter 8) -----------------------------------------------------------------

#: JSB Chorales train / valid / test sequences: the standard split of Boulanger-Lewandowski et al.
#: (2012) as distributed with the TCN code of Bai et al. (2018).
JSB_SPLIT_SIZES = {"train": 229, "valid": 76, "test": 77}

#: Baselines on the standard JSB test split, nats per frame; no paper tabulates them: measured with an
#: independent script on JSB_Chorales.mat. Independent keys (per-key Bernoulli fitted on train): 11.09,
#: the same to 0.01 with add-0.5 or add-1 smoothing. Logistic regression on the previous frame: 9.05
#: with an L2 penalty of 1e-4 (the library's default), 9.03 with a weaker one; the tests allow 0.1.
JSB_BERNOULLI_NLL = 11.09
JSB_LOGISTIC_NLL = 9.03

#: The same baselines on all music21 chorales converted to JSB-style rolls (this library's split),
#: measured with the same independent script: 10.98 and 9.02. A different split of ~350 chorales moves
#: them by 0.1-0.2, so the tests allow 0.3 (results/music.json, full run: 10.96 and 9.07).
MUSIC21_BERNOULLI_NLL = 10.98
MUSIC21_LOGISTIC_NLL = 9.02

# -- Word-level language models (Chapter 8) ---------------------------------------------------------

#: Penn Treebank with Mikolov's preprocessing: vocabulary and tokens (with <eos>) of train / valid / test,
#: counted from the standard files (Mikolov et al. 2010; Zaremba et al. 2014, §4.1, quote 929k/73k/82k).
PTB_VOCABULARY = 10_000
PTB_TOKENS = (929_589, 73_760, 82_430)

#: WikiText-2 test perplexity of Miller & Hardt (2019), unstable and stable, as quoted in Miller's essay
#: (miller2018essay in book/references.bib): tanh RNN 146.7 -> 143.5, LSTM 92.3 -> 95.1.
MILLER_HARDT_PERPLEXITY = {"tanh": {"unstable": 146.7, "stable": 143.5}, "lstm": {"unstable": 92.3, "stable": 95.1}}

# -- Binder (tests/test_binder.py) -------------------------------------------------------------------

#: repo2docker's base environment for Python 3.11 (repo2docker/buildpacks/conda/environment.py-3.11.yml
#: and its linux-64 lock, frozen 2025-11-13): the packages it names, at their locked versions, as pip
#: names them (conda's jupyterhub-singleuser is pip's jupyterhub). binder/requirements.txt installs on
#: top of these.
REPO2DOCKER_BASE = ["ipywidgets==8.1.8", "jupyter-offlinenotebook==0.3.2", "jupyter-resource-usage==1.2.0",
                    "jupyter_server==2.17.0", "jupyterhub==5.4.2", "jupyterlab==4.4.10", "notebook==7.4.7",
                    "jupyterlab-myst==2.4.2", "ipykernel==7.1.0"]
