"""Loaders of the paper's data sets from user directories (the paper config): Omniglot and text8.

Neither is bundled or downloaded; a missing directory raises ``common.data.DataNotFoundError`` that says
where to put the files.
"""
from __future__ import annotations

import collections
import os

import numpy as np

from common.data import DataNotFoundError, require_path


OMNIGLOT_HOW = ("Download images_background.zip and images_evaluation.zip from https://github.com/brendenlake/omniglot "
                "(python/ folder), unzip both into one directory and pass it as --config.digits.data_dir=<dir>.")


def require_omniglot(data_dir: str) -> list[str]:
    """The two split directories of Omniglot under ``data_dir``, or DataNotFoundError saying where to get them
    (also when ``data_dir`` is unset)."""
    root = require_path(data_dir, "Omniglot directory", OMNIGLOT_HOW)
    splits = [os.path.join(root, s) for s in ("images_background", "images_evaluation")]
    missing = [s for s in splits if not os.path.isdir(s)]
    if missing:
        raise DataNotFoundError(f"Omniglot not found: {missing} do not exist. {OMNIGLOT_HOW}")
    return splits


def _omniglot_split(split: str, image_size: int, per_class: int) -> list[np.ndarray]:
    """One array [per_class, image_size, image_size] (ink = 1) per character directory of ``split``."""
    from PIL import Image
    out = []
    for alphabet in sorted(os.listdir(split)):
        adir = os.path.join(split, alphabet)
        for char in sorted(os.listdir(adir)):
            cdir = os.path.join(adir, char)
            files = sorted(f for f in os.listdir(cdir) if f.endswith(".png"))[:per_class]
            out.append(np.stack([1.0 - np.asarray(Image.open(os.path.join(cdir, f)).convert("L")
                                                  .resize((image_size, image_size)), np.float32) / 255.0
                                 for f in files]))
    return out


def omniglot_pool(data_dir: str, image_size: int = 28, per_class: int = 20, rotate_train: bool = True):
    """Omniglot as [n_classes, 20, image_size**2] float32 in [0, 1] (ink = 1), and the number of training classes.

    Expects ``data_dir/images_background/<alphabet>/<character>/*.png`` (964 training characters) and
    ``data_dir/images_evaluation/...`` (659 test characters), the layout of github.com/brendenlake/omniglot.
    As in the paper's MAML setup (Finn et al.), every character is one class; images are resized to 28 x 28.
    ``rotate_train``: the training characters rotated by 90, 180 and 270 degrees are new classes (the class
    augmentation of the official code), placed after the originals, before the test classes.
    """
    background, evaluation = (_omniglot_split(s, image_size, per_class) for s in require_omniglot(data_dir))
    if rotate_train:
        background = background + [np.rot90(c, k, axes=(1, 2)) for k in (1, 2, 3) for c in background]
    classes = np.stack(background + evaluation).astype(np.float32)
    return classes.reshape(classes.shape[0], classes.shape[1], -1), len(background)


def require_text8(data_dir: str) -> str:
    """The path of ``data_dir/text8``, or DataNotFoundError saying where to get it."""
    return require_path(os.path.join(data_dir, "text8") if data_dir else "", "text8",
                        "Download http://mattmahoney.net/dc/text8.zip, unzip it into a directory and pass "
                        "--config.w2v.data_dir=<dir>.")


def require_analogies(data_dir: str) -> str:
    """The path of ``data_dir/questions-words.txt`` (word2vec's analogy questions), or DataNotFoundError."""
    return _require_analogy_file(os.path.join(data_dir, "questions-words.txt") if data_dir else "")


def _require_analogy_file(path: str) -> str:
    return require_path(path, "analogy questions", "Put word2vec's questions-words.txt there (the w2v.data_dir "
                        "that holds text8).")


def text8_tokens(data_dir: str, max_vocab: int, max_tokens: int = 0):
    """text8 as an int32 token array over the ``max_vocab`` most frequent words (others dropped; 0: every word),
    and the vocab."""
    path = require_text8(data_dir)
    with open(path) as f:
        words = f.read().split()
    if max_tokens:
        words = words[:max_tokens]
    vocab = [w for w, _ in collections.Counter(words).most_common(max_vocab or None)]
    index = {w: i for i, w in enumerate(vocab)}
    return np.asarray([index[w] for w in words if w in index], np.int32), vocab


def read_analogies(path: str, vocab: list[str]) -> np.ndarray:
    """Analogy questions a:b::c:d (``questions-words.txt`` format) with all four words in ``vocab``, [m, 4]."""
    path = _require_analogy_file(path)
    index = {w: i for i, w in enumerate(vocab)}
    out = []
    with open(path) as f:
        for line in f:
            ws = line.lower().split()
            if len(ws) == 4 and all(w in index for w in ws):
                out.append([index[w] for w in ws])
    return np.asarray(out, np.int32)
