"""gTTS engine against a faked Google endpoint: the real gTTS code builds and parses every exchange."""

from __future__ import annotations

import pytest
import requests

from broadcaster.errors import SpeechError
from broadcaster.speech.audio import decode_to_pcm
from broadcaster.speech.gtts_engine import GttsEngine, exponential_backoff

from tests.speech.conftest import all_files


def test_success_posts_the_text_and_writes_the_mp3(google, gtts, tmp_path, mp3_bytes):
    target = tmp_path / "out.mp3"
    gtts.synthesize("Xin chào bà con.", target)
    assert google.requests == [["Xin chào bà con.", "vi", None, "null"]]
    assert google.timeouts == [5.0]
    assert target.read_bytes() == mp3_bytes
    assert decode_to_pcm(target, "gtts").size > 0
    assert all_files(tmp_path) == [target]


def test_long_text_goes_in_parts_and_the_parts_are_concatenated(google, gtts, tmp_path, mp3_bytes):
    text = "Ủy ban nhân dân xã thông báo lịch tiêm phòng, " * 4
    target = tmp_path / "out.mp3"
    gtts.synthesize(text.strip(), target)
    assert len(google.requests) >= 2
    # gTTS cuts at the commas (and drops them); every word is sent once, in order.
    assert " ".join(google.texts).replace(",", "").split() == text.replace(",", "").split()
    assert target.read_bytes() == mp3_bytes * len(google.requests)


FAILURES = [
    pytest.param(requests.exceptions.ReadTimeout("read timed out"), "5.0", id="read-timeout"),
    pytest.param(requests.exceptions.ConnectTimeout("connect timed out"), "5.0", id="connect-timeout"),
    pytest.param(requests.exceptions.ConnectionError("Name or service not known"), "Failed to connect",
                 id="connection-error"),
    pytest.param(429, "429", id="http-429"),
    pytest.param(503, "503", id="http-503"),
    pytest.param("raw:)]}'\n\n12\n<html>oops</html>\n", "không có âm thanh|no audio|rỗng", id="no-rpc-line"),
    pytest.param('raw:)]}\'\n\n40\n[["wrb.fr","jQ1olc","[]",null,null,null,"generic"]]\n', "200",
                 id="rpc-without-audio"),
    pytest.param('raw:)]}\'\n\n40\n[["wrb.fr","jQ1olc","[\\"abc\\"]",null,null,null,"generic"]]\n',
                 "Error", id="broken-base64"),
]


@pytest.mark.parametrize("failure, mentions", FAILURES)
def test_every_failure_is_retried_then_reported_and_leaves_no_file(google, gtts, sleeps, tmp_path,
                                                                   failure, mentions):
    google.default = failure
    target = tmp_path / "out.mp3"
    with pytest.raises(SpeechError) as caught:
        gtts.synthesize("Xin chào.", target)
    assert len(google.requests) == 3                   # the first try and gtts_retries=2 more
    assert sleeps.calls == [1.0, 2.0]
    message = str(caught.value)
    assert "3" in message and any(m in message for m in mentions.split("|"))
    assert all_files(tmp_path) == []                   # no 0-byte or partial file anywhere


def test_recovers_within_its_retries(google, gtts, sleeps, tmp_path, mp3_bytes):
    google.then(requests.exceptions.ReadTimeout("slow"), 429, "ok")
    target = tmp_path / "out.mp3"
    gtts.synthesize("Xin chào.", target)
    assert len(google.requests) == 3
    assert sleeps.calls == [1.0, 2.0]
    assert target.read_bytes() == mp3_bytes


def test_no_retries_means_one_attempt(google, sleeps, tmp_path):
    google.default = 429
    engine = GttsEngine(retries=0, sleep=sleeps)
    with pytest.raises(SpeechError):
        engine.synthesize("Xin chào.", tmp_path / "x.mp3")
    assert len(google.requests) == 1 and sleeps.calls == []


def test_backoff_grows_and_is_capped():
    assert [exponential_backoff(n) for n in (1, 2, 3, 4, 10)] == [1.0, 2.0, 4.0, 8.0, 30.0]


def test_cache_options_name_everything_that_changes_the_voice():
    options = GttsEngine(tld="com.vn").cache_options()
    assert options["lang"] == "vi" and options["tld"] == "com.vn" and options["version"] == "2.5.4"
