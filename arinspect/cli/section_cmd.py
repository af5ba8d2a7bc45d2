"""``arinspect section generate|validate``: make and check section folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``section`` verb."""
    parser = subparsers.add_parser("section", help="generate or validate a ship section folder")
    verbs = parser.add_subparsers(dest="section_command", required=True, metavar="SUBCOMMAND")

    gen = verbs.add_parser(
        "generate", help="generate a procedural panel block with parts and markers"
    )
    gen.add_argument(
        "--seed", type=int, required=True, help="random seed (same seed, same section)"
    )
    gen.add_argument("--out", type=Path, required=True, help="section folder to write")
    gen.add_argument(
        "--marker-family", default="DICT_5X5_250", help="ArUco dictionary or apriltag_36h11"
    )
    gen.add_argument(
        "--marker-size-m", type=float, default=0.2, help="marker black-square side, metres"
    )
    gen.set_defaults(func=generate)

    val = verbs.add_parser("validate", help="report every problem of a section folder")
    val.add_argument("section", type=Path, help="section folder (holding section.json)")
    val.add_argument(
        "--catalog", type=Path, default=None, help="catalog folder (default: the bundled one)"
    )
    val.set_defaults(func=validate)


def generate(args: argparse.Namespace) -> int:
    """Generate a section folder."""
    from arinspect.cad.generator import GeneratorConfig, generate_section
    from arinspect.markers import dictionary

    dictionary(args.marker_family)  # fails early, with the family's name, if it is unknown
    config = GeneratorConfig(marker_family=args.marker_family, marker_size_m=args.marker_size_m)
    section = generate_section(args.seed, args.out, config=config)
    n_control = sum(m.control for m in section.markers)
    print(f"{section.description}")
    print(
        f"{len(section.parts)} parts, {len(section.structure)} structure elements,"
        f" {len(section.markers)} markers ({n_control} control)"
    )
    print(f"written to {args.out / 'section.json'}")
    return 0


def validate(args: argparse.Namespace) -> int:
    """Validate a section folder; exit code 1 if it has errors."""
    from arinspect.cad.catalog import load_catalog
    from arinspect.cad.validate import validate_section

    classes = set(load_catalog(args.catalog).classes) if args.catalog else None
    problems = validate_section(args.section, classes)
    for problem in problems:
        print(problem, file=sys.stderr if problem.severity == "error" else sys.stdout)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    verdict = "invalid" if errors else "valid"
    print(f"{args.section}: {verdict} ({errors} error(s), {warnings} warning(s))")
    return 1 if errors else 0
