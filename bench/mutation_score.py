"""The tests of the pure core, measured: the share of each file's mutants that its tests kill (``make mutate``).

    python -m bench.mutation_score [--results mutants] [--at-least PERCENT] [--survivors]

Reads what ``mutmut run`` leaves beside each mutated file (``mutants/<file>.meta``: every mutant's exit code from
the tests run against it) and prints, per file, the mutants and what became of them, and the score: the mutants
detected (killed: a test failed; timeout: the tests hung; type error or crash) over every mutant checked
(skipped ones and ones not yet run left out). A survivor is a change of the code no test noticed: untested
behaviour, or an equivalent mutant that no test can tell from the original (listed in the README, each with why).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# mutmut's verdict for each exit code of a mutant's test run (mutmut.__main__.status_by_exit_code, mutmut 3); a
# mutant caught by the type check or crashing the tests counts as killed.
DETECTED = {
    1: "killed",
    3: "killed",
    37: "killed",
    -11: "killed",
    -9: "killed",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
}
UNDETECTED = {0: "survived", 5: "no tests", 33: "no tests", 35: "suspicious"}
LEFT_OUT = {34: "skipped", 2: "interrupted"}


@dataclass(frozen=True)
class FileScore:
    path: str
    verdicts: Counter[str]
    survivors: list[str]  # the names of the mutants no test detected

    @property
    def detected(self) -> int:
        return sum(self.verdicts[name] for name in set(DETECTED.values()))

    @property
    def checked(self) -> int:
        return self.detected + sum(self.verdicts[name] for name in set(UNDETECTED.values()))

    @property
    def score(self) -> float:
        return 100.0 * self.detected / self.checked if self.checked else 0.0


def verdict(exit_code: int | None) -> str:
    if exit_code is None:
        return "not checked"
    return DETECTED.get(exit_code) or UNDETECTED.get(exit_code) or LEFT_OUT.get(exit_code) or "suspicious"


def file_scores(results: Path) -> list[FileScore]:
    """One score per mutated file, from the ``.meta`` files under ``results``."""
    scores = []
    for meta in sorted(results.rglob("*.py.meta")):
        exit_codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        if not exit_codes:
            continue  # copied, not mutated
        verdicts = Counter(verdict(code) for code in exit_codes.values())
        survivors = sorted(name for name, code in exit_codes.items() if verdict(code) in UNDETECTED.values())
        scores.append(FileScore(str(meta.relative_to(results))[: -len(".meta")], verdicts, survivors))
    return scores


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mutation_score", description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=Path("mutants"), help="where mutmut run left its results")
    parser.add_argument(
        "--at-least",
        type=float,
        default=0.0,
        help="exit 1 if a file scores below this percentage (default 0: only report)",
    )
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants of each file")
    args = parser.parse_args(argv)
    scores = file_scores(args.results)
    if not scores:
        parser.error(f"no mutmut results under {args.results}/: run `mutmut run` (make mutate) first")
    columns = ("killed", "timeout", "survived", "no tests", "suspicious", "skipped", "not checked")
    width = max(len(score.path) for score in scores)
    print(f"{'file':<{width}}  {'mutants':>7}  " + "  ".join(f"{name:>11}" for name in columns) + "    score")
    for score in scores:
        counts = "  ".join(f"{score.verdicts[name]:>11}" for name in columns)
        print(f"{score.path:<{width}}  {sum(score.verdicts.values()):>7}  {counts}  {score.score:6.1f}%")
    if args.survivors:
        for score in scores:
            print(f"\n{score.path}: {len(score.survivors)} undetected (`mutmut show NAME` shows one)")
            for name in score.survivors:
                print(f"  {name}")
    low = [score.path for score in scores if score.score < args.at_least]
    if low:
        print(f"\nbelow {args.at_least:g}%: {', '.join(low)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
