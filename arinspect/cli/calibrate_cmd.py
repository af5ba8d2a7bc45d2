"""``arinspect calibrate camera|section|board``: intrinsics, marker maps, printable boards."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arinspect.calibration.boards import BoardSpec

BOARD_HELP = (
    "chessboard: COLS x ROWS inner corners; charuco: COLS x ROWS squares (OpenCV's"
    " CharucoBoard); circles: symmetric grid of COLS x ROWS dots"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` verb."""
    parser = subparsers.add_parser(
        "calibrate", help="calibrate a camera, register a section's markers, print a board"
    )
    verbs = parser.add_subparsers(dest="calibrate_command", required=True, metavar="SUBCOMMAND")

    camera = verbs.add_parser(
        "camera",
        help="camera intrinsics from photos of a calibration board",
        description="Find the board in every photo (sub-pixel), drop views where it is not"
        " found or that are outliers, solve the intrinsics with OpenCV and write them as"
        " OpenCV FileStorage YAML with per-view errors and the parameters' standard"
        " deviations.",
    )
    camera.add_argument(
        "--images", required=True, help="glob of the photos, quoted (e.g. 'photos/*.jpg')"
    )
    _add_board_options(camera)
    camera.add_argument(
        "--distortion-terms",
        type=int,
        choices=(4, 5, 8),
        default=5,
        help="distortion model: 4 (k1 k2 p1 p2), 5 (+ k3, default) or 8 (rational)",
    )
    camera.add_argument(
        "--min-views", type=int, default=5, help="fewest good views to accept (default 5)"
    )
    camera.add_argument(
        "--out", type=Path, required=True, help="camera file to write (calibration/NAME.yaml)"
    )
    camera.set_defaults(func=run_camera)

    section = verbs.add_parser(
        "section",
        help="measure where a section's non-control markers really are (bundle adjustment)",
        description="Detect the section's markers in photos or a recording, estimate every"
        " non-control marker's pose in the section frame with the control markers fixed at"
        " their survey, and write the registered section with a report (corrections in mm"
        " and deg, residuals in px, uncertainties in mm).",
    )
    section.add_argument("section", type=Path, help="section folder with the nominal markers")
    source = section.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", help="glob of the photos, quoted (e.g. 'survey/*.jpg')")
    source.add_argument("--recording", type=Path, help="recording folder (BOP layout)")
    section.add_argument(
        "--camera",
        type=Path,
        help="camera intrinsics, OpenCV YAML (required with --images; default for a"
        " recording: its camera.yaml)",
    )
    section.add_argument(
        "--out", type=Path, required=True, help="folder for the registered section"
    )
    section.add_argument(
        "--loss-scale-px",
        type=float,
        default=1.0,
        help="residual where the robust loss starts to bend, pixels (default 1)",
    )
    section.set_defaults(func=run_section)

    board = verbs.add_parser(
        "board",
        help="write a board image to print",
        description="Draw the board at the printer's resolution with a one-square white"
        " margin. Print it at 100 %% scale, then measure a square and pass what you"
        " measured as --square-mm when calibrating.",
    )
    _add_board_options(board)
    board.add_argument(
        "--dpi", type=int, default=300, help="printer resolution, dots per inch (default 300)"
    )
    board.add_argument("--out", type=Path, required=True, help="PNG file to write")
    board.set_defaults(func=run_board)


def _add_board_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--board", choices=("chessboard", "charuco", "circles"), required=True, help=BOARD_HELP
    )
    parser.add_argument("--cols", type=int, required=True, help="columns (see --board)")
    parser.add_argument("--rows", type=int, required=True, help="rows (see --board)")
    parser.add_argument(
        "--square-mm",
        type=float,
        required=True,
        help="side of a square (chessboard, charuco) or dot spacing (circles), millimetres",
    )
    parser.add_argument(
        "--marker-mm", type=float, default=0.0, help="side of a ChArUco marker, millimetres"
    )
    parser.add_argument(
        "--dictionary",
        default="DICT_5X5_100",
        help="ArUco dictionary of the ChArUco markers (default DICT_5X5_100)",
    )


def _board_spec(args: argparse.Namespace) -> BoardSpec:
    from arinspect.calibration.boards import BoardSpec
    from arinspect.errors import ConfigError

    if args.board == "charuco" and args.marker_mm <= 0.0:
        raise ConfigError("a ChArUco board needs --marker-mm (side of its markers, millimetres)")
    return BoardSpec(
        args.board,
        args.cols,
        args.rows,
        args.square_mm / 1000.0,
        args.marker_mm / 1000.0 if args.board == "charuco" else 0.0,
        args.dictionary,
    )


def _command(*words: object) -> str:
    return shlex.join(["arinspect", "calibrate", *(str(w) for w in words)])


def run_camera(args: argparse.Namespace) -> int:
    """Calibrate a camera from board photos."""
    from arinspect.calibration.images import image_paths
    from arinspect.calibration.intrinsics import IntrinsicsConfig, calibrate_from_files
    from arinspect.calibration.report import intrinsics_summary, save_intrinsics

    spec = _board_spec(args)
    config = IntrinsicsConfig(distortion_terms=args.distortion_terms, min_views=args.min_views)
    paths = image_paths(args.images)
    result = calibrate_from_files(paths, spec, config)
    options = {
        "--images": args.images,
        "--board": args.board,
        "--cols": args.cols,
        "--rows": args.rows,
        "--square-mm": args.square_mm,
        "--marker-mm": args.marker_mm,
        "--dictionary": args.dictionary,
        "--distortion-terms": args.distortion_terms,
        "--out": args.out,
    }
    command = _command("camera", *(w for pair in options.items() for w in pair))
    path = save_intrinsics(result, args.out, command)
    print(intrinsics_summary(result))
    print(f"written to {path}")
    return 0


def run_section(args: argparse.Namespace) -> int:
    """Register a section's markers from photos or a recording."""
    from arinspect.cad.section import load_section
    from arinspect.calibration.images import image_paths, read_images
    from arinspect.calibration.registration import RegistrationConfig, register_section
    from arinspect.calibration.report import registration_summary, write_registered_section
    from arinspect.camera import load_camera
    from arinspect.errors import ConfigError
    from arinspect.recording.bop import Recording

    section = load_section(args.section)
    if args.recording is not None:
        recording = Recording(args.recording)
        camera = load_camera(args.camera) if args.camera else recording.camera
        frames = ((f"frame {i}", recording.bgr(i)) for i in recording.frame_ids)
        source = ("--recording", args.recording)
    else:
        if args.camera is None:
            raise ConfigError("--camera is needed with --images (the photos' intrinsics)")
        camera = load_camera(args.camera)
        paths = image_paths(args.images)
        frames = ((path.name, image) for path, image in read_images(paths))
        source = ("--images", args.images)
    config = RegistrationConfig(loss_scale_px=args.loss_scale_px)
    result = register_section(section, camera, frames, config)
    camera_words = ("--camera", args.camera) if args.camera else ()
    command = _command("section", args.section, *source, *camera_words, "--out", args.out)
    folder = write_registered_section(result, args.out, command)
    print(registration_summary(result))
    print(f"registered section written to {folder}")
    return 0


def run_board(args: argparse.Namespace) -> int:
    """Write a printable board image."""
    import cv2

    from arinspect.calibration.boards import board_image
    from arinspect.errors import ConfigError

    spec = _board_spec(args)
    if args.dpi < 50:
        raise ConfigError(f"--dpi must be at least 50, got {args.dpi}")
    mm_per_inch = 25.4
    square_px = round(args.square_mm / mm_per_inch * args.dpi)
    drawn = board_image(spec, square_px)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(args.out), drawn.image):
        raise ConfigError(f"cannot write {args.out} (use a .png name in a writable folder)")
    height_px, width_px = drawn.image.shape
    printed_mm = square_px / args.dpi * mm_per_inch
    print(
        f"{spec.describe()}: {width_px}x{height_px} px, print at {args.dpi} dpi (100 % scale):"
        f" {width_px / args.dpi * mm_per_inch:.0f} x {height_px / args.dpi * mm_per_inch:.0f} mm,"
        f" squares {printed_mm:.2f} mm"
    )
    print(f"written to {args.out}; measure a printed square and use that as --square-mm")
    return 0
