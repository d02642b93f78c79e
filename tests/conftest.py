"""Root fixtures shared by every test folder (owned by the output engineer).

`pulse`: one private PulseAudio server for the whole session (see tests/pulseaudio.py), with
this process's PortAudio pointed at it. It is stopped by pid at session end, even when tests
fail. `spare_pulse`: a second server a test may kill (an unplugged sound card). Other folders
keep their own fixtures in their own conftest.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.icecast import IcecastServer
from tests.pulseaudio import PulseServer

_PULSE_ENV = ("XDG_RUNTIME_DIR", "PULSE_SERVER", "PULSE_RUNTIME_PATH")


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    """A running private PulseAudio server whose sink the test can read back."""
    saved = {key: os.environ.get(key) for key in _PULSE_ENV}
    server = PulseServer(tmp_path_factory.mktemp("pulse"))
    try:
        server.start()
        server.activate()
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def pulse_clean(pulse: PulseServer) -> PulseServer:
    """The session server, pointed at again and with its capture buffer emptied for this test."""
    pulse.activate()
    pulse.clear()
    return pulse


@pytest.fixture
def spare_pulse(tmp_path, pulse: PulseServer) -> Iterator[PulseServer]:
    """A second private server, active for the test, that the test may stop; `pulse` is re-activated after."""
    import sounddevice

    server = PulseServer(tmp_path / "spare-pulse")
    try:
        server.start()
        server.activate()
        yield server
    finally:
        sounddevice._terminate()        # let go of the server, or `pulseaudio -k` waits for us
        server.stop()
        sounddevice._initialize()
        pulse.activate()


@pytest.fixture
def icecast() -> Iterator[IcecastServer]:
    """A real icecast2 on a free loopback port (tests/icecast.py), stopped by pid afterwards."""
    server = IcecastServer()
    server.start()
    try:
        yield server
    finally:
        server.close()
