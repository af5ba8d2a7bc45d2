from __future__ import annotations

import argparse
import math

import numpy as np
import pytest
from scipy.io import wavfile

from arinspect.annotate.voice import (
    COMMAND_ACTIONS,
    SAMPLE_RATE_HZ,
    VoiceAction,
    VoiceCommandRecognizer,
    action_for,
    command_grammar,
    read_wav,
)
from arinspect.cli import voice_cmd
from arinspect.errors import ArInspectError, ConfigError, DataFormatError, ShapeError
from tests.annotate.speech import (
    ESPEAK,
    NEAR_MISSES,
    OUT_OF_GRAMMAR,
    Condition,
    conditions,
    decode_all,
    speak,
    utterance,
)

needs_espeak = pytest.mark.skipif(
    ESPEAK is None, reason="espeak-ng is not on PATH (Debian package espeak-ng)"
)
VOICES = ("en-us", "en-us+m3")


@pytest.fixture(scope="module")
def recognizer() -> VoiceCommandRecognizer:
    return VoiceCommandRecognizer()


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="module")
def command_trials(recognizer, speech_dir):
    """Every command at two voices, 130 and 170 wpm, clean and at SNR 20 dB (64 trials)."""
    return decode_all(recognizer, tuple(COMMAND_ACTIONS), conditions(VOICES), speech_dir)


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    voice_cmd.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


@needs_espeak
def test_commands_are_recognised_at_two_voices_two_speeds_with_and_without_noise(
    command_trials,
):
    assert len(command_trials) == 64
    misses = [t for t in command_trials if t.result.command != t.text]
    assert len(misses) <= 0.05 * len(command_trials), [(t.text, str(t.condition)) for t in misses]
    wrong = [t for t in misses if t.result.command is not None]
    assert not wrong, "a command was mistaken for another one"
    assert all(t.result.decode_s > 0.0 for t in command_trials)


@needs_espeak
def test_ordinary_out_of_grammar_speech_is_rejected(recognizer, speech_dir):
    trials = decode_all(recognizer, OUT_OF_GRAMMAR, conditions(VOICES), speech_dir)
    accepted = [(t.text, str(t.condition), t.result.command) for t in trials if t.result.command]
    assert len(trials) == 64
    assert len(accepted) <= 0.1 * len(trials), accepted


@needs_espeak
def test_phrases_that_start_like_or_contain_a_command_are_rejected(recognizer, speech_dir):
    phrases = ("cancel my order please", "next week", "missing", "confirmation", "damaged pipe")
    assert set(phrases) <= set(NEAR_MISSES)
    spoken = [Condition(v, 150, snr) for v in VOICES for snr in (None, 20.0)]
    trials = decode_all(recognizer, phrases, spoken, speech_dir)
    accepted = [(t.text, str(t.condition), t.result.command) for t in trials if t.result.command]
    assert len(accepted) <= 0.1 * len(trials), accepted


def test_silence_and_noise_are_rejected(recognizer):
    silence = np.zeros(SAMPLE_RATE_HZ, dtype=np.int16)
    noise = np.random.default_rng(3).normal(0, 2000, SAMPLE_RATE_HZ).astype(np.int16)
    for samples in (silence, noise, np.zeros(0, dtype=np.int16)):
        result = recognizer.recognize(samples)
        assert result.command is None


@needs_espeak
def test_decoding_is_deterministic_and_confidence_is_a_finite_ratio(recognizer, speech_dir):
    samples = utterance("next part", Condition("en-us", 150, 20.0), speech_dir)
    first, second = recognizer.recognize(samples), recognizer.recognize(samples)
    assert first.command == "next part"
    assert (first.confidence, first.speech_mismatch) == (second.confidence, second.speech_mismatch)
    assert math.isfinite(first.confidence) and first.confidence >= -2.4


@needs_espeak
def test_a_smaller_command_set_rejects_the_commands_left_out(speech_dir):
    small = VoiceCommandRecognizer(["confirm", "cancel"])
    assert small.commands == ("confirm", "cancel")
    spoken = Condition("en-us", 150, None)
    assert small.recognize(utterance("cancel", spoken, speech_dir)).command == "cancel"
    assert small.recognize(utterance("next part", spoken, speech_dir)).command is None


def test_every_command_has_an_action():
    assert action_for("mark missing") == VoiceAction("set_status", "missing")
    assert action_for("mark misplaced") == VoiceAction("set_status", "misplaced")
    assert action_for("mark damaged") == VoiceAction("set_status", "damaged")
    assert action_for("previous part") == VoiceAction("previous_part")
    assert {action_for(c).name for c in COMMAND_ACTIONS} == {
        "set_status",
        "add_note",
        "next_part",
        "previous_part",
        "confirm",
        "cancel",
    }
    with pytest.raises(ConfigError, match="'open hatch'"):
        action_for("open hatch")


def test_grammar_lists_every_command_as_an_alternative():
    text = command_grammar(["confirm", "next part"])
    assert text.startswith("#JSGF V1.0;")
    assert "public <command> = confirm | next part;" in text


def test_a_grammar_word_missing_from_the_dictionary_is_named():
    with pytest.raises(ConfigError, match=r"cmudict-en-us\.dict: 'misaligned'$"):
        VoiceCommandRecognizer(["mark missing", "mark misaligned"])
    with pytest.raises(ConfigError, match="lower-case words"):
        VoiceCommandRecognizer(["mark-missing"])
    with pytest.raises(ConfigError, match="no voice commands"):
        VoiceCommandRecognizer([])


def test_recognize_takes_only_1d_int16(recognizer):
    with pytest.raises(TypeError, match="int16"):
        recognizer.recognize(np.zeros(1600, dtype=np.float32))
    with pytest.raises(ShapeError, match=r"samples has shape \(800, 2\)"):
        recognizer.recognize(np.zeros((800, 2), dtype=np.int16))


def _dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum) * SAMPLE_RATE_HZ / samples.size)


def test_read_wav_converts_rate_channels_and_sample_format(tmp_path):
    t = np.arange(44100) / 44100
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    wavfile.write(tmp_path / "stereo.wav", 44100, np.stack([tone, tone], 1).astype(np.float32))
    samples = read_wav(tmp_path / "stereo.wav")
    assert samples.dtype == np.int16 and samples.shape == (16000,)
    assert abs(_dominant_hz(samples) - 440) <= 1
    assert 16000 < np.abs(samples).max() <= 16400  # 0.5 of full scale

    eight_bit = (128 + 100 * np.sin(2 * np.pi * 300 * np.arange(8000) / 8000)).astype(np.uint8)
    wavfile.write(tmp_path / "phone.wav", 8000, eight_bit)
    samples = read_wav(tmp_path / "phone.wav")
    assert samples.shape == (16000,) and abs(_dominant_hz(samples) - 300) <= 1
    assert 25000 < np.abs(samples).max() <= 26000  # 100/128 of full scale

    native = (1000 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)).astype(np.int16)
    wavfile.write(tmp_path / "native.wav", SAMPLE_RATE_HZ, native)
    np.testing.assert_array_equal(read_wav(tmp_path / "native.wav"), native)


def test_bad_wav_files_give_a_clear_error_naming_the_file(tmp_path):
    missing = tmp_path / "missing.wav"
    with pytest.raises(DataFormatError, match="missing.wav: audio file not found"):
        read_wav(missing)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(DataFormatError, match="corrupt.wav: not a readable WAV file"):
        read_wav(corrupt)
    native = np.zeros(1600, dtype=np.int16)
    wavfile.write(tmp_path / "whole.wav", SAMPLE_RATE_HZ, native)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes((tmp_path / "whole.wav").read_bytes()[:30])
    with pytest.raises(DataFormatError, match="truncated.wav: not a readable WAV file"):
        read_wav(truncated)
    wavfile.write(tmp_path / "slow.wav", 4000, np.zeros(400, dtype=np.int16))
    with pytest.raises(DataFormatError, match="slow.wav: sample rate 4000 Hz is too low"):
        read_wav(tmp_path / "slow.wav")
    wavfile.write(tmp_path / "empty.wav", SAMPLE_RATE_HZ, np.zeros(0, dtype=np.int16))
    with pytest.raises(DataFormatError, match="empty.wav: the WAV file holds no audio samples"):
        read_wav(tmp_path / "empty.wav")


@needs_espeak
def test_cli_prints_the_command_or_rejected(tmp_path, capsys):
    args = _cli("voice", "recognize", str(speak("mark damaged", "en-us", 150, tmp_path)))
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("mark damaged  (action: set_status damaged;")
    args = _cli("voice", "recognize", str(speak("open the hatch", "en-us", 150, tmp_path)))
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("rejected  (heard: ")


def test_cli_bad_file_raises_an_arinspect_error(tmp_path):
    (tmp_path / "notes.wav").write_text("not audio")
    args = _cli("voice", "recognize", str(tmp_path / "notes.wav"))
    with pytest.raises(ArInspectError, match="notes.wav: not a readable WAV file"):
        args.func(args)
