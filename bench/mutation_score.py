"""The tests of the pure core, measured: the share of each file's mutants that its tests kill (``make mutate``).

    python -m bench.mutation_score [--results mutants] [--equivalents FILE] [--at-least PERCENT] [--survivors]

Reads what ``mutmut run`` leaves beside each mutated file (``mutants/<file>.meta``: every mutant's exit code from
the tests run against it) and prints, per file, the mutants and what became of them, and two scores: the raw one,
the mutants detected (killed: a test failed; timeout: the tests hung; type error or crash) over every mutant
checked (skipped ones and ones not yet run left out); and the score, the same over every mutant checked but the
equivalent ones, which no test can tell from the original (bench/mutation_equivalents.txt, each with why). A
survivor not in that list is a change of the code no test noticed: untested behaviour.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Collection, Sequence
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


EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.txt")


@dataclass(frozen=True)
class FileScore:
    path: str
    verdicts: Counter[str]
    survivors: list[str]  # the names of the mutants no test detected
    equivalent: int = 0  # how many of the survivors are listed as equivalent

    @property
    def detected(self) -> int:
        return sum(self.verdicts[name] for name in set(DETECTED.values()))

    @property
    def checked(self) -> int:
        return self.detected + sum(self.verdicts[name] for name in set(UNDETECTED.values()))

    @property
    def raw_score(self) -> float:
        return 100.0 * self.detected / self.checked if self.checked else 0.0

    @property
    def score(self) -> float:
        """Detected over checked, the equivalent mutants left out of both."""
        relevant = self.checked - self.equivalent
        return 100.0 * self.detected / relevant if relevant else 0.0


def equivalents(path: Path) -> dict[str, str]:
    """The listed equivalent mutants: name → why (``#`` starts a comment line)."""
    listed: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, why = line.partition(" ")
            listed[name] = why.strip()
    return listed


def verdict(exit_code: int | None) -> str:
    if exit_code is None:
        return "not checked"
    return DETECTED.get(exit_code) or UNDETECTED.get(exit_code) or LEFT_OUT.get(exit_code) or "suspicious"


def file_scores(results: Path, equivalent: Collection[str] = ()) -> list[FileScore]:
    """One score per mutated file, from the ``.meta`` files under ``results``."""
    scores = []
    for meta in sorted(results.rglob("*.py.meta")):
        exit_codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        if not exit_codes:
            continue  # copied, not mutated
        verdicts = Counter(verdict(code) for code in exit_codes.values())
        survivors = sorted(name for name, code in exit_codes.items() if verdict(code) in UNDETECTED.values())
        scores.append(
            FileScore(
                str(meta.relative_to(results))[: -len(".meta")],
                verdicts,
                survivors,
                sum(name in equivalent for name in survivors),
            )
        )
    return scores


def stale(results: Path, listed: Collection[str]) -> tuple[list[str], list[str]]:
    """Listed equivalents a test killed, and listed ones mutmut did not make: the list needs updating."""
    made: dict[str, int | None] = {}
    for meta in results.rglob("*.py.meta"):
        made.update(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    killed = sorted(name for name in listed if name in made and verdict(made[name]) in DETECTED.values())
    missing = sorted(name for name in listed if name not in made)
    return killed, missing


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mutation_score", description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=Path("mutants"), help="where mutmut run left its results")
    parser.add_argument(
        "--equivalents",
        type=Path,
        default=EQUIVALENTS,
        help="the equivalent mutants, one a line: name, then why (default: %(default)s)",
    )
    parser.add_argument(
        "--at-least",
        type=float,
        default=0.0,
        help="exit 1 if a file scores below this percentage (default 0: only report)",
    )
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants of each file")
    args = parser.parse_args(argv)
    listed = equivalents(args.equivalents) if args.equivalents.exists() else {}
    scores = file_scores(args.results, listed)
    if not scores:
        parser.error(f"no mutmut results under {args.results}/: run `mutmut run` (make mutate) first")
    columns = ("killed", "timeout", "survived", "no tests", "suspicious", "skipped", "not checked")
    width = max(len(score.path) for score in scores)
    print(
        f"{'file':<{width}}  {'mutants':>7}  "
        + "  ".join(f"{name:>11}" for name in columns)
        + "  equivalent  raw score  score"
    )
    for score in scores:
        counts = "  ".join(f"{score.verdicts[name]:>11}" for name in columns)
        print(
            f"{score.path:<{width}}  {sum(score.verdicts.values()):>7}  {counts}  {score.equivalent:>10}  "
            f"{score.raw_score:8.1f}%  {score.score:5.1f}%"
        )
    print("\nscore: detected ÷ checked, the equivalent mutants left out (raw score: with them)")
    killed, missing = stale(args.results, listed)
    for names, what in (
        (killed, "listed as equivalent, but a test killed them"),
        (missing, "listed as equivalent, but mutmut no longer makes them"),
    ):
        if names:
            print(f"\n{len(names)} {what} (update {args.equivalents}):\n  " + "\n  ".join(names))
    if args.survivors:
        for score in scores:
            untested = [name for name in score.survivors if name not in listed]
            print(
                f"\n{score.path}: {len(untested)} undetected and not listed as equivalent "
                "(`mutmut show NAME` shows one)"
            )
            for name in untested:
                print(f"  {name}")
    low = [score.path for score in scores if score.score < args.at_least]
    if low:
        print(f"\nbelow {args.at_least:g}%: {', '.join(low)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
