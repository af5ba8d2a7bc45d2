"""Offline voice commands for a worker's headset: what was said, or a rejection.

Owns the command vocabulary and the action each command triggers, reading a WAV file
into the 16 kHz mono 16-bit samples PocketSphinx decodes, and `VoiceCommandRecognizer`.

A decode constrained by a JSGF grammar always returns some path through the grammar, so
out-of-grammar speech needs its own test. Each utterance is decoded twice with the same
acoustic model: once with the command grammar and once with an unconstrained phone loop
(PocketSphinx's ``allphone`` search). The command is accepted only when the grammar
reached its final state, the log-likelihood ratio of the grammar path against the phone
loop per speech frame is at least ``min_confidence`` (nats per 10 ms frame; near 0 when
the command explains the audio as well as free phones do), and the two decodes agree on
which frames are speech: a phrase that merely starts like a command ("cancel my order
please") gets its tail labelled silence by the grammar but phones by the phone loop.
Figures and limits: docs/voice.md.
"""

from __future__ import annotations

import math
import re
import struct
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pocketsphinx
from numpy.typing import NDArray
from scipy.io import wavfile
from scipy.signal import resample_poly

from arinspect.errors import ConfigError, DataFormatError
from arinspect.geometry import check_shape

SAMPLE_RATE_HZ = 16_000
"""The sample rate PocketSphinx's English acoustic model was trained on, Hz."""

MIN_INPUT_RATE_HZ = 8_000
"""Lowest WAV sample rate `read_wav` resamples from, Hz (telephone band)."""

DICTIONARY = "cmudict-en-us.dict"
"""The pronunciation dictionary shipped in the pocketsphinx wheel."""


@dataclass(frozen=True)
class VoiceAction:
    """What a recognised command asks the application to do.

    Attributes:
        name: ``set_status``, ``add_note``, ``next_part``, ``previous_part``, ``confirm``
            or ``cancel``.
        status: For ``set_status``, the status to give the selected part (``missing``,
            ``misplaced`` or ``damaged``); None for the other actions.
    """

    name: str
    status: str | None = None


COMMAND_ACTIONS: dict[str, VoiceAction] = {
    "mark missing": VoiceAction("set_status", "missing"),
    "mark misplaced": VoiceAction("set_status", "misplaced"),
    "mark damaged": VoiceAction("set_status", "damaged"),
    "add note": VoiceAction("add_note"),
    "next part": VoiceAction("next_part"),
    "previous part": VoiceAction("previous_part"),
    "confirm": VoiceAction("confirm"),
    "cancel": VoiceAction("cancel"),
}
"""The default commands (the grammar's phrases) and their actions."""

DEFAULT_MIN_CONFIDENCE = -2.4
"""Accept a command only with at least this grammar/phone-loop log-likelihood ratio,
nats per speech frame (tuned on espeak-ng speech, docs/voice.md)."""

DEFAULT_MAX_SPEECH_MISMATCH = 0.25
"""Reject when the grammar and phone-loop decodes disagree on speech vs silence in more
than this fraction of the frames (tuned on espeak-ng speech, docs/voice.md)."""

DITHER_LSB = 10.0
"""Standard deviation of the Gaussian dither added before decoding, in 16-bit steps
(-70 dBFS). Runs of digital zeros (synthetic or gated audio) otherwise derail the
decoder's feature extraction; the dither is seeded, so decoding stays deterministic."""

_GRAMMAR_SEARCH = "commands"
_PHONE_LOOP_SEARCH = "phone_loop"
_SCORE_SHIFT_BITS = 10
"""PocketSphinx keeps path scores in log-base-``logbase`` units shifted right by
SENSCR_SHIFT (10 bits); hypothesis and phone-loop segment scores come in these units."""
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class VoiceResult:
    """The outcome of one utterance.

    Attributes:
        command: The recognised command phrase, or None when the utterance was rejected.
        transcript: What the grammar decode heard, even when rejected: a command, a
            partial path through the grammar (e.g. ``mark``), or empty.
        confidence: Log-likelihood ratio of the grammar path against the phone loop, nats
            per speech frame (10 ms); -inf when the grammar decode found no path.
        speech_mismatch: Fraction of frames (0..1) where the grammar and phone-loop
            decodes disagree on speech vs silence.
        decode_s: Wall-clock time of both decodes, seconds.
    """

    command: str | None
    transcript: str
    confidence: float
    speech_mismatch: float
    decode_s: float


@dataclass(frozen=True)
class _Decode:
    """One search's result: hypothesis text, score (PocketSphinx units), speech frames."""

    text: str
    score: float
    speech: NDArray[np.bool_]


def action_for(command: str) -> VoiceAction:
    """The action of a default command phrase, e.g. ``mark missing`` -> set status missing.

    Raises:
        ConfigError: The phrase is not one of `COMMAND_ACTIONS`.
    """
    try:
        return COMMAND_ACTIONS[command]
    except KeyError as exc:
        raise ConfigError(f"no action for voice command {command!r}") from exc


def command_grammar(commands: Iterable[str]) -> str:
    """The JSGF grammar text: one public rule whose alternatives are the command phrases."""
    return f"#JSGF V1.0;\ngrammar {_GRAMMAR_SEARCH};\npublic <command> = {' | '.join(commands)};\n"


def read_wav(path: str | Path) -> NDArray[np.int16]:
    """Read a WAV file as the (N,) 16 kHz mono 16-bit samples the recogniser takes.

    Other sample rates (8 kHz and up) are resampled with a polyphase filter, several
    channels are averaged, and 8/24/32-bit integer or float samples are rescaled.

    Raises:
        DataFormatError: The file is missing, not a readable WAV file, holds no samples,
            or its sample rate is below 8 kHz.
    """
    path = Path(path)
    rate_hz, data = _read_wav_file(path)
    if data.size == 0:
        raise DataFormatError(path, "the WAV file holds no audio samples")
    if rate_hz < MIN_INPUT_RATE_HZ:
        raise DataFormatError(
            path, f"sample rate {rate_hz} Hz is too low for speech (need >= {MIN_INPUT_RATE_HZ})"
        )
    mono = _int16_scale(data)
    if mono.ndim == 2:
        mono = mono.mean(axis=1)
    if rate_hz != SAMPLE_RATE_HZ:
        common = math.gcd(rate_hz, SAMPLE_RATE_HZ)
        mono = resample_poly(mono, SAMPLE_RATE_HZ // common, rate_hz // common)
    return _to_int16(mono)


def _read_wav_file(path: Path) -> tuple[int, np.ndarray]:
    """Sample rate (Hz) and the (N,) or (N, channels) samples as scipy reads them."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            rate_hz, data = wavfile.read(path)
    except FileNotFoundError as exc:
        raise DataFormatError(path, "audio file not found") from exc
    except (OSError, ValueError, EOFError, struct.error) as exc:
        raise DataFormatError(path, f"not a readable WAV file: {exc}") from exc
    return int(rate_hz), np.asarray(data)


def _int16_scale(data: np.ndarray) -> NDArray[np.float64]:
    """Samples of any WAV sample format as float64 on the 16-bit integer scale."""
    if data.dtype == np.uint8:
        return (data.astype(np.float64) - 128.0) * 256.0
    if np.issubdtype(data.dtype, np.signedinteger):
        return data.astype(np.float64) * (2.0**15 / 2.0 ** (8 * data.dtype.itemsize - 1))
    return data.astype(np.float64) * 2.0**15


def _to_int16(samples: NDArray[np.float64]) -> NDArray[np.int16]:
    """Round and clip float samples on the 16-bit scale to int16."""
    return np.clip(np.rint(samples), -32768, 32767).astype(np.int16)


class VoiceCommandRecognizer:
    """Recognises one spoken command per utterance, or rejects the utterance.

    The PocketSphinx decoder (English acoustic model and dictionary from the wheel, no
    download) is built once; `recognize` then takes about 4 % of the audio's duration.

    Args:
        commands: The command phrases: lower-case words separated by spaces, each word
            in PocketSphinx's dictionary. Defaults to the keys of `COMMAND_ACTIONS`.
        min_confidence: Lowest accepted grammar/phone-loop log-likelihood ratio, nats per
            speech frame.
        max_speech_mismatch: Highest accepted fraction of frames where the grammar and
            phone-loop decodes disagree on speech vs silence.

    Raises:
        ConfigError: A phrase is empty or has characters other than letters and
            apostrophes, or a word is not in the dictionary (the error names it).
    """

    def __init__(
        self,
        commands: Iterable[str] = tuple(COMMAND_ACTIONS),
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        max_speech_mismatch: float = DEFAULT_MAX_SPEECH_MISMATCH,
    ) -> None:
        self.commands = _checked_phrases(commands)
        self.min_confidence = min_confidence
        self.max_speech_mismatch = max_speech_mismatch
        self._decoder = pocketsphinx.Decoder(lm=None, loglevel="FATAL")
        _check_in_dictionary(self._decoder, self.commands)
        self._decoder.add_jsgf_string(_GRAMMAR_SEARCH, command_grammar(self.commands))
        self._decoder.add_allphone_file(_PHONE_LOOP_SEARCH, None)
        logbase = float(self._decoder.config["logbase"])
        self._nats_per_unit = (1 << _SCORE_SHIFT_BITS) * math.log(logbase)

    def recognize(self, samples: NDArray[np.int16]) -> VoiceResult:
        """Recognise the command spoken in one utterance.

        Args:
            samples: (N,) int16 samples at 16 kHz, mono: one utterance (push-to-talk
                segment) with or without silence around it.

        Returns:
            The command, or None as `VoiceResult.command` when rejected, with the
            transcript, confidence and decoding time.

        Raises:
            TypeError: The samples are not int16.
            ShapeError: The samples are not a 1-D array.
        """
        audio = _dithered(_checked_samples(samples))
        start = time.perf_counter()
        grammar = self._decode(_GRAMMAR_SEARCH, audio, acoustic_only=False)
        phones = self._decode(_PHONE_LOOP_SEARCH, audio, acoustic_only=True)
        decode_s = time.perf_counter() - start
        confidence = self._confidence(grammar, phones)
        mismatch = float(np.mean(grammar.speech != phones.speech)) if grammar.speech.size else 1.0
        accepted = (
            grammar.text in self.commands
            and confidence >= self.min_confidence
            and mismatch <= self.max_speech_mismatch
        )
        return VoiceResult(
            command=grammar.text if accepted else None,
            transcript=grammar.text,
            confidence=confidence,
            speech_mismatch=mismatch,
            decode_s=decode_s,
        )

    def _confidence(self, grammar: _Decode, phones: _Decode) -> float:
        """Grammar path vs phone loop log-likelihood ratio, nats per grammar speech frame."""
        if math.isinf(grammar.score) or math.isinf(phones.score):
            return -math.inf
        speech_frames = max(int(grammar.speech.sum()), 1)
        return (grammar.score - phones.score) * self._nats_per_unit / speech_frames

    def _decode(self, search: str, audio: NDArray[np.int16], acoustic_only: bool) -> _Decode:
        """Run one search over the whole utterance, from a fresh feature extraction state.

        The score is the path's total score, or with ``acoustic_only`` the sum of its
        segments' acoustic scores. The phone loop needs the latter (its phone-insertion and
        phone-probability costs are no evidence); the grammar keeps its small transition costs
        because its segment scores do not come in the shifted units.
        """
        decoder = self._decoder
        decoder.activate_search(search)
        decoder.reinit_feat()  # no noise or cepstral-mean estimate carried over from before
        decoder.start_utt()
        try:
            if audio.size:  # PocketSphinx fails on an empty buffer
                decoder.process_raw(audio.tobytes(), full_utt=True)
        finally:
            decoder.end_utt()
        speech = np.zeros(decoder.n_frames(), dtype=bool)
        hypothesis = decoder.hyp()
        if hypothesis is None:
            return _Decode("", -math.inf, speech)
        segments = list(decoder.seg() or ())
        for segment in segments:
            if not _is_filler(segment.word):
                speech[segment.start_frame : segment.end_frame + 1] = True
        log = decoder.logmath.log
        if acoustic_only:
            score = float(sum(log(segment.ascore) for segment in segments))
        else:
            score = float(log(hypothesis.score))
        return _Decode(hypothesis.hypstr, score, speech)


def _is_filler(token: str) -> bool:
    """True for silence and noise tokens of either search (``<sil>``, ``[NOISE]``, ``SIL``)."""
    return token == "SIL" or token[:1] in "<[+"


def _checked_phrases(commands: Iterable[str]) -> tuple[str, ...]:
    """Command phrases normalised to single spaces, duplicates dropped, order kept."""
    phrases: list[str] = []
    for phrase in commands:
        words = phrase.split()
        if not words or not all(_WORD.fullmatch(word) for word in words):
            raise ConfigError(
                f"voice command {phrase!r} must be lower-case words (letters, apostrophes)"
            )
        normalised = " ".join(words)
        if normalised not in phrases:
            phrases.append(normalised)
    if not phrases:
        raise ConfigError("no voice commands given")
    return tuple(phrases)


def _check_in_dictionary(decoder: pocketsphinx.Decoder, phrases: tuple[str, ...]) -> None:
    """Raise ConfigError naming every grammar word the pronunciation dictionary lacks."""
    words = dict.fromkeys(word for phrase in phrases for word in phrase.split())
    missing = [word for word in words if decoder.lookup_word(word) is None]
    if missing:
        raise ConfigError(
            f"voice command word(s) not in the PocketSphinx dictionary {DICTIONARY}: "
            + ", ".join(repr(word) for word in missing)
        )


def _checked_samples(samples: NDArray[np.int16]) -> NDArray[np.int16]:
    """The samples as a 1-D int16 array, or TypeError/ShapeError."""
    audio = np.asarray(samples)
    if audio.dtype != np.int16:
        raise TypeError(f"samples must be int16 at {SAMPLE_RATE_HZ} Hz, got {audio.dtype}")
    check_shape(audio, (None,), "samples")
    return audio


def _dithered(audio: NDArray[np.int16]) -> NDArray[np.int16]:
    """The samples with seeded Gaussian dither of `DITHER_LSB` added (deterministic)."""
    noise = np.random.default_rng(0).normal(0.0, DITHER_LSB, audio.shape)
    return _to_int16(audio.astype(np.float64) + noise)
