"""Convert the Toutiao title data in /work/shared/data/textcls/ to `label<TAB>text` files.

Writes train.tsv and test.tsv into OUT_DIR (default: a new temp dir; never the repo):

* test  = ``toutiao_cat_data.test.txt`` (RuoYe test file), titles deduplicated;
* train = ``toutiao_test.txt`` (BertWithPretrained 10% split) + ``toutiao_cat_data.dev.txt``,
  deduplicated, minus every title that also occurs in the test file (the files overlap).

Titles only by default; a title seen under two labels keeps its first label. With
``--keywords`` each text is the title followed by the source's keywords (5th field, commas
turned into spaces) wherever an original-format file has keywords for that title; the
derived file has none, so only about 17 % of the training rows (against about 71 % of the
test rows) carry keywords. Same rows and labels either way.
Usage: ``python benchmarks/labels_data.py [--keywords] [OUT_DIR]``; prints the paths.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

DATA = Path("/work/shared/data/textcls/toutiao")
# Index order of the derived file (code order 100…116 without the unused codes).
NAMES = ["news_story", "news_culture", "news_entertainment", "news_sports", "news_finance",
         "news_house", "news_car", "news_edu", "news_tech", "news_military", "news_travel",
         "news_world", "stock", "news_agriculture", "news_game"]


def _clean(title: str) -> str:
    return " ".join(title.split())


def read_original(path: Path) -> list[tuple[str, str]]:
    """(label, title) rows of a file in the original `id_!_code_!_name_!_title_!_kw` format."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("_!_")
        if len(parts) >= 4 and parts[3].strip():
            rows.append((parts[2], _clean(parts[3])))
    return rows


def read_keywords(*paths: Path) -> dict[str, str]:
    """Title → space-separated keywords of original-format files (first non-empty wins)."""
    out: dict[str, str] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("_!_")
            if len(parts) >= 5 and parts[3].strip() and parts[4].strip():
                out.setdefault(_clean(parts[3]), " ".join(parts[4].strip().split(",")))
    return out


def read_derived(path: Path) -> list[tuple[str, str]]:
    """(label, title) rows of the derived `title_!_index` file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        title, _, index = line.rpartition("_!_")
        if title.strip() and index.strip().isdigit():
            rows.append((NAMES[int(index)], _clean(title)))
    return rows


def dedup(rows: list[tuple[str, str]], exclude: set[str]) -> list[tuple[str, str]]:
    """First occurrence of each title, skipping titles in `exclude`."""
    seen = set(exclude)
    out = []
    for label, title in rows:
        if title not in seen:
            seen.add(title)
            out.append((label, title))
    return out


def write_tsv(path: Path, rows: list[tuple[str, str]]) -> None:
    """One `label<TAB>text` line per row."""
    with path.open("w", encoding="utf-8") as fh:
        for label, text in rows:
            fh.write(f"{label}\t{text}\n")


def main() -> None:
    """Write train.tsv / test.tsv and print their sizes."""
    args = [a for a in sys.argv[1:] if a != "--keywords"]
    out = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="labels-"))
    out.mkdir(parents=True, exist_ok=True)
    test = dedup(read_original(DATA / "toutiao_cat_data.test.txt"), set())
    test_titles = {t for _, t in test}
    train = dedup(read_derived(DATA / "toutiao_test.txt")
                  + read_original(DATA / "toutiao_cat_data.dev.txt"), test_titles)
    if "--keywords" in sys.argv[1:]:
        kw = read_keywords(DATA / "toutiao_cat_data.dev.txt", DATA / "toutiao_cat_data.test.txt")
        train = [(label, f"{t} {kw[t]}" if t in kw else t) for label, t in train]
        test = [(label, f"{t} {kw[t]}" if t in kw else t) for label, t in test]
    write_tsv(out / "train.tsv", train)
    write_tsv(out / "test.tsv", test)
    for name, rows in (("train", train), ("test", test)):
        classes = len(Counter(label for label, _ in rows))
        print(f"{name} {out / (name + '.tsv')} rows={len(rows)} classes={classes}")


if __name__ == "__main__":
    main()
