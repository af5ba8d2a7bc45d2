"""Synthetic speech for the voice tests: espeak-ng, resampled to 16 kHz in Python.

Only the ``espeak-ng`` program is needed (Debian package ``espeak-ng``); it writes
22.05 kHz WAV files, which `arinspect.annotate.voice.read_wav` resamples.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from arinspect.annotate.voice import (
    SAMPLE_RATE_HZ,
    VoiceCommandRecognizer,
    VoiceResult,
    read_wav,
)

ESPEAK = shutil.which("espeak-ng")

OUT_OF_GRAMMAR = (
    "what time is it",
    "open the hatch",
    "hello world",
    "the pipe is green",
    "where is my helmet",
    "turn on the light",
    "check the weld",
    "good morning",
)
"""Ordinary speech that is not a command."""

NEAR_MISSES = (
    "mark the bracket",
    "next week",
    "cancel my order please",
    "missing",
    "damaged pipe",
    "add it up",
    "confirmation",
    "part number seven",
)
"""Out-of-grammar phrases that share words or sounds with the commands (harder)."""


@dataclass(frozen=True)
class Condition:
    """How an utterance is spoken: espeak-ng voice, words per minute, SNR (None: clean)."""

    voice: str
    wpm: int
    snr_db: float | None

    def __str__(self) -> str:
        noise = "clean" if self.snr_db is None else f"SNR {self.snr_db:g} dB"
        return f"{self.voice} {self.wpm} wpm {noise}"


def conditions(voices: tuple[str, ...]) -> list[Condition]:
    """Every voice at 130 and 170 words per minute, clean and with white noise at 20 dB."""
    return [Condition(v, wpm, snr) for v in voices for wpm in (130, 170) for snr in (None, 20.0)]


def speak(text: str, voice: str, wpm: int, folder: Path) -> Path:
    """Speak ``text`` with espeak-ng into a 22.05 kHz WAV file in ``folder``; its path."""
    path = folder / f"{voice}-{wpm}-{'_'.join(text.split())}.wav"
    subprocess.run(
        [ESPEAK, "-v", voice, "-s", str(wpm), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    return path


def synthesize(text: str, voice: str, wpm: int, folder: Path) -> NDArray[np.int16]:
    """``text`` spoken by espeak-ng as (N,) int16 samples at 16 kHz."""
    return read_wav(speak(text, voice, wpm, folder))


def with_noise(samples: NDArray[np.int16], snr_db: float | None, seed: int) -> NDArray[np.int16]:
    """The samples plus seeded white Gaussian noise at ``snr_db`` below their mean power."""
    if snr_db is None:
        return samples
    signal = samples.astype(np.float64)
    power = np.mean(signal**2) / 10.0 ** (snr_db / 10.0)
    noise = np.random.default_rng(seed).normal(0.0, np.sqrt(power), signal.shape)
    return np.clip(np.rint(signal + noise), -32768, 32767).astype(np.int16)


def utterance(text: str, condition: Condition, folder: Path) -> NDArray[np.int16]:
    """``text`` spoken under ``condition`` (the noise seed depends on the text only)."""
    samples = synthesize(text, condition.voice, condition.wpm, folder)
    return with_noise(samples, condition.snr_db, seed=sum(map(ord, text)))


@dataclass(frozen=True)
class Trial:
    """One decoded utterance: what was said, how, what came out, and the audio length."""

    text: str
    condition: Condition
    result: VoiceResult
    audio_s: float


def decode_all(
    recognizer: VoiceCommandRecognizer,
    phrases: tuple[str, ...],
    spoken: list[Condition],
    folder: Path,
) -> list[Trial]:
    """Every phrase under every condition, synthesised into ``folder`` and decoded."""
    trials = []
    for condition in spoken:
        for text in phrases:
            samples = utterance(text, condition, folder)
            result = recognizer.recognize(samples)
            trials.append(Trial(text, condition, result, samples.size / SAMPLE_RATE_HZ))
    return trials
