"""``arinspect voice``: recognise a spoken command offline, or reject what is not one.

``arinspect voice recognize FILE.wav`` prints the command and its action, or ``rejected``
with what the grammar heard; out-of-grammar speech is never mapped to the nearest command.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``voice`` verb and its sub-commands."""
    parser = subparsers.add_parser(
        "voice", help="offline voice commands (mark missing, next part, ...) with rejection"
    )
    verbs = parser.add_subparsers(dest="voice_command", required=True, metavar="SUBCOMMAND")
    recognize = verbs.add_parser(
        "recognize", help="print the command spoken in a WAV file, or 'rejected'"
    )
    recognize.add_argument(
        "wav", type=Path, help="one utterance, WAV (16 kHz mono 16-bit; other formats converted)"
    )
    recognize.add_argument(
        "--min-confidence",
        type=float,
        default=None,
        help="lowest accepted log-likelihood ratio, nats per speech frame"
        " (default: the value tuned in docs/voice.md)",
    )
    recognize.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Decode the file and print the command or ``rejected``."""
    from arinspect.annotate.voice import (
        DEFAULT_MIN_CONFIDENCE,
        SAMPLE_RATE_HZ,
        VoiceCommandRecognizer,
        action_for,
        read_wav,
    )

    samples = read_wav(args.wav)
    min_confidence = DEFAULT_MIN_CONFIDENCE if args.min_confidence is None else args.min_confidence
    result = VoiceCommandRecognizer(min_confidence=min_confidence).recognize(samples)
    details = (
        f"confidence {result.confidence:.2f} nats/frame, "
        f"decoded {samples.size / SAMPLE_RATE_HZ:.2f} s of audio in {result.decode_s:.3f} s"
    )
    if result.command is None:
        heard = result.transcript or "nothing in the grammar"
        print(f"rejected  (heard: {heard}; {details})")
    else:
        action = action_for(result.command)
        what = action.name if action.status is None else f"{action.name} {action.status}"
        print(f"{result.command}  (action: {what}; {details})")
    return 0
