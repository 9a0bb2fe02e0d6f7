"""Ability-label text classifier (pure: texts and labels in, labels with confidences out).

Features are TF-IDF over jieba words (uni- and bigrams; jieba passes English words through
whole) plus TF-IDF over character n-grams (robust to segmentation errors and to short,
mixed-language titles). The model is a one-vs-rest linear SVM; each class's score is turned
into a confidence by its own Platt sigmoid, fitted on out-of-fold scores. Confidences are
independent per class (they need not sum to one), so a text can carry several labels
above a threshold: the API is ready for multi-label use.

Artefacts are one ``.npz`` file holding only arrays and a JSON header. They are loaded with
``allow_pickle=False``, so a tampered file cannot run code; it can at worst give wrong
labels. The platform only loads artefacts that its own training job wrote under DATA_DIR.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

FORMAT = "shopwindow-labels/1"
DEFAULT_SIGMOID = (2.0, 0.0)
_SPACE_OR_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)


@dataclass(frozen=True, slots=True)
class ModelParams:
    """Hyper-parameters of the classifier (chosen on a validation split, see docs)."""

    c: float = 0.5
    balanced: bool = True
    word_ngrams: int = 2
    char_min: int = 1
    char_max: int = 3
    char_min_df: int = 1
    # Weight of the NB-SVM part added to the plain SVM (0 = plain SVM only) and its C.
    nb_weight: float = 1.0
    nb_c: float = 0.3
    calibration_folds: int = 2
    # Below this many examples of the rarest label, held-out margins are too few to fit a
    # sigmoid per label (tested: 10 seed phrases per label gave confidences near 1 for
    # everything), so confidences use the fixed sigmoid instead.
    calibration_min_per_label: int = 30
    seed: int = 0


@dataclass(slots=True)
class _Vocab:
    terms: list[str]
    idf: np.ndarray


@dataclass(slots=True)
class FitInfo:
    """What a fit saw: row and class counts, feature count, whether confidences are fitted."""

    rows: int
    classes: int
    features: int
    calibrated: bool
    extra: dict[str, Any] = field(default_factory=dict)


def tokenize(text: str) -> list[str]:
    """jieba words of a lower-cased text, without whitespace and punctuation tokens."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.lcut(text.lower()) if w.strip() and not _SPACE_OR_PUNCT.match(w)]


def _word_terms(n: int) -> Callable[[str], list[str]]:
    def analyse(text: str) -> list[str]:
        words = tokenize(text)
        terms = list(words)
        for k in range(2, n + 1):
            terms += [" ".join(words[i:i + k]) for i in range(len(words) - k + 1)]
        return terms

    return analyse


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -50, 50))))


class LabelModel:
    """A trained classifier: `predict`, `confidences`, `top_labels`, `save`/`load`."""

    def __init__(self, params: ModelParams, classes: list[str], words: _Vocab, chars: _Vocab,
                 coef: np.ndarray, intercept: np.ndarray, platt: np.ndarray) -> None:
        self.params = params
        self.classes = classes
        self._words = words
        self._chars = chars
        self._coef = coef            # (classes, features)
        self._intercept = intercept  # (classes,)
        self._platt = platt          # (classes, 2): slope, offset of each class's sigmoid
        self._vectorizers: tuple[Any, Any] | None = None

    # ---------------------------------------------------------------- features

    def _vecs(self) -> tuple[Any, Any]:
        if self._vectorizers is None:
            self._vectorizers = (
                _vectorizer(self.params, "word", self._words.terms, self._words.idf),
                _vectorizer(self.params, "char", self._chars.terms, self._chars.idf))
        return self._vectorizers

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF feature rows of the texts (words then characters)."""
        w, c = self._vecs()
        return sp.hstack([w.transform(texts), c.transform(texts)]).tocsr()

    # ---------------------------------------------------------------- inference

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Raw one-vs-rest SVM margins, shape (texts, classes)."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        return np.asarray(self.features(texts) @ self._coef.T) + self._intercept

    def confidences(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated per-class confidences in [0, 1], shape (texts, classes)."""
        s = self.scores(texts)
        return _sigmoid(s * self._platt[:, 0] + self._platt[:, 1])

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The label with the largest SVM margin for each text."""
        # Margins, not confidences: each class's sigmoid is fitted on its own, so on small
        # training sets two sigmoids can reorder close calls.
        return [self.classes[i] for i in self.scores(texts).argmax(axis=1)] if texts else []

    def top_labels(self, text: str, k: int = 3,
                   min_confidence: float = 0.0) -> list[tuple[str, float]]:
        """Up to k (label, confidence) pairs of one text, most confident first."""
        conf = self.confidences([text])[0]
        order = np.argsort(-conf)[:k]
        return [(self.classes[i], float(conf[i])) for i in order if conf[i] >= min_confidence]

    # ---------------------------------------------------------------- persistence

    def save(self, path: Path, info: dict[str, Any] | None = None) -> None:
        """Write the model to one .npz file atomically (arrays and a JSON header only)."""
        header = {"format": FORMAT, "params": asdict(self.params), "classes": self.classes,
                  "words": self._words.terms, "chars": self._chars.terms, "info": info or {}}
        raw = np.frombuffer(json.dumps(header, ensure_ascii=False).encode(), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".labels-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, header=raw, coef=self._coef,
                                    intercept=self._intercept, platt=self._platt,
                                    idf_words=self._words.idf, idf_chars=self._chars.idf)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def read_info(path: Path) -> dict[str, Any]:
        """The `info` dict saved with a model (version, counts), without building it."""
        with np.load(path, allow_pickle=False) as z:
            return dict(json.loads(z["header"].tobytes().decode())["info"])

    @classmethod
    def load(cls, path: Path) -> LabelModel:
        """Read a model written by `save`; no pickled objects are accepted."""
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(z["header"].tobytes().decode())
            if header.get("format") != FORMAT:
                raise ValueError(f"{path}: not a {FORMAT} artefact")
            return cls(ModelParams(**header["params"]), list(header["classes"]),
                       _Vocab(list(header["words"]), z["idf_words"]),
                       _Vocab(list(header["chars"]), z["idf_chars"]),
                       z["coef"], z["intercept"], z["platt"])


def _vectorizer(params: ModelParams, kind: str, vocabulary: list[str] | None = None,
                idf: np.ndarray | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vocab = {t: i for i, t in enumerate(vocabulary)} if vocabulary is not None else None
    if kind == "word":
        vec = TfidfVectorizer(analyzer=_word_terms(params.word_ngrams), sublinear_tf=True,
                              vocabulary=vocab, dtype=np.float32)
    else:
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(params.char_min, params.char_max),
                              lowercase=True, sublinear_tf=True,
                              min_df=1 if vocab is not None else params.char_min_df,
                              vocabulary=vocab, dtype=np.float32)
    if idf is not None:
        vec.idf_ = idf
    return vec


def _terms(vec: Any) -> list[str]:
    return [str(t) for t in vec.get_feature_names_out()]


def _platt_fit(scores: np.ndarray, y: np.ndarray, classes: int) -> np.ndarray:
    """One sigmoid per class on out-of-fold margins (Platt scaling)."""
    from sklearn.linear_model import LogisticRegression

    platt = np.zeros((classes, 2))
    for k in range(classes):
        target = (y == k).astype(int)
        if target.min() == target.max():
            platt[k] = DEFAULT_SIGMOID
            continue
        lr = LogisticRegression(C=1e4).fit(scores[:, k:k + 1], target)
        slope = float(lr.coef_[0, 0])
        # A non-increasing sigmoid means the held-out margins were noise (tiny data): a larger
        # margin must never mean a smaller confidence, so fall back to the fixed sigmoid.
        platt[k] = (slope, float(lr.intercept_[0])) if slope > 0 else DEFAULT_SIGMOID
    return platt


def _nb_ratios(x: sp.csr_matrix, y: np.ndarray, classes: int) -> np.ndarray:
    """Per-class log-count ratios of binarised features, one-vs-rest (NB-SVM, Wang & Manning)."""
    xb = x.copy()
    xb.data[:] = 1
    total = np.asarray(xb.sum(axis=0)).ravel()
    ratios = np.zeros((classes, x.shape[1]), dtype=np.float32)
    for k in range(classes):
        p = np.asarray(xb[y == k].sum(axis=0)).ravel() + 1.0
        q = total - p + 2.0
        ratios[k] = np.log((p / p.sum()) / (q / q.sum()))
    return ratios


def _fit_linear(x: sp.csr_matrix, y: np.ndarray, classes: int,
                params: ModelParams) -> tuple[np.ndarray, np.ndarray]:
    """Weights (classes, features) and intercepts of the SVM plus the weighted NB-SVM part."""
    from sklearn.svm import LinearSVC

    weight = "balanced" if params.balanced else None
    clf = LinearSVC(C=params.c, class_weight=weight, random_state=params.seed).fit(x, y)
    coef = np.asarray(clf.coef_, dtype=np.float32)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    if classes == 2:
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    if params.nb_weight > 0:
        # The NB-SVM of class k is linear in r_k ⊙ x, so its weights fold into w_k ⊙ r_k and
        # the sum of both models stays one linear model (same artefact, same inference).
        ratios = _nb_ratios(x, y, classes)
        for k in range(classes):
            nb = LinearSVC(C=params.nb_c, class_weight=weight, random_state=params.seed)
            nb.fit(x.multiply(ratios[k]).tocsr(), (y == k).astype(int))
            coef[k] += params.nb_weight * np.asarray(nb.coef_[0], dtype=np.float32) * ratios[k]
            intercept[k] += params.nb_weight * float(nb.intercept_[0])
    return coef, intercept


def fit(texts: Sequence[str], labels: Sequence[str],
        params: ModelParams | None = None) -> tuple[LabelModel, FitInfo]:
    """Train a model on labelled texts (at least two distinct labels)."""
    from sklearn.model_selection import StratifiedKFold

    params = params or ModelParams()
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("training needs examples of at least two labels")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in labels])
    wv, cv = _vectorizer(params, "word"), _vectorizer(params, "char")
    x = sp.hstack([wv.fit_transform(texts), cv.fit_transform(texts)]).tocsr()

    rarest = int(np.bincount(y).min())
    folds = params.calibration_folds if rarest >= params.calibration_min_per_label else 0
    if folds >= 2:
        oof = np.zeros((len(y), len(classes)))
        split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=params.seed)
        for tr, te in split.split(x, y):
            if len(set(y[tr])) < len(classes):
                continue
            w, b = _fit_linear(x[tr], y[tr], len(classes), params)
            oof[te] = np.asarray(x[te] @ w.T) + b
        platt = _platt_fit(oof, y, len(classes))
    else:
        # Too few examples per label to hold some out: a fixed, moderately sharp sigmoid
        # (margin 0 → 0.5, margin 1 → 0.88).
        platt = np.tile(DEFAULT_SIGMOID, (len(classes), 1))
    coef, intercept = _fit_linear(x, y, len(classes), params)
    model = LabelModel(params, classes, _Vocab(_terms(wv), np.asarray(wv.idf_)),
                       _Vocab(_terms(cv), np.asarray(cv.idf_)), coef, intercept, platt)
    model._vectorizers = (wv, cv)
    return model, FitInfo(rows=len(y), classes=len(classes), features=x.shape[1],
                          calibrated=folds >= 2)


def fit_baseline(texts: Sequence[str], labels: Sequence[str]) -> Callable[[Sequence[str]],
                                                                            list[str]]:
    """The reference baseline: TF-IDF over jieba words + LinearSVC with default settings."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vec = TfidfVectorizer(analyzer=tokenize)
    clf = LinearSVC(random_state=0).fit(vec.fit_transform(texts), list(labels))
    return lambda xs: [str(p) for p in clf.predict(vec.transform(xs))]
