"""Root fixtures shared by every test folder (owned by the output engineer).

`pulse`: one private PulseAudio server for the whole session (see tests/pulseaudio.py), with
this process's PortAudio pointed at it. It is stopped by pid at session end, even when tests
fail. `spare_pulse`: a second server a test may kill (an unplugged sound card). Other folders
keep their own fixtures in their own conftest.py.

The suite runs in parallel pytest-xdist workers (scripts/test): a session fixture is made once per
worker process (each worker has its own PulseAudio under its own temporary folder), and nothing
may use a fixed path, a fixed port or process-wide state that outlives its test. Tests marked
`serial` hold a real-time bound that the other workers' load could break; `--phase parallel`
leaves them out (and hands the workers the real-time tests first) and `--phase serial` runs only
them, which scripts/test does one after the other.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from broadcaster import i18n
from tests.icecast import IcecastServer
from tests.pulseaudio import PulseServer

_PULSE_ENV = ("XDG_RUNTIME_DIR", "PULSE_SERVER", "PULSE_RUNTIME_PATH")
PHASES = ("all", "parallel", "serial")
REAL_TIME_FIXTURES = frozenset({"run_station", "icecast", "pulse", "spare_pulse"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--phase", choices=PHASES, default="all",
                     help="parallel: every test but those marked serial; serial: only those; all (default): both")


def real_time(item: pytest.Item) -> bool:
    """Whether the test waits on real time (the daemon, real servers): seconds, not milliseconds."""
    return item.get_closest_marker("e2e") is not None or not REAL_TIME_FIXTURES.isdisjoint(item.fixturenames)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    phase = config.getoption("phase")
    if phase == "all":
        return
    serial = {item: item.get_closest_marker("serial") is not None for item in items}
    dropped = [item for item in items if serial[item] != (phase == "serial")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if serial[item] == (phase == "serial")]
    if phase == "parallel":
        # The workers take tests in this order: the long real-time ones first, so that none of
        # them starts last while the other workers sit idle (each kept in collection order).
        items.sort(key=lambda item: not real_time(item))


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts and ends in the default language: `main(["--lang", "en", ...])` in the
    test process sets it for the process, and a worker would carry it into its next test."""
    i18n.set_language(None)
    yield
    i18n.set_language(None)


@pytest.fixture
def english() -> None:
    """The test runs in English (`default_language` puts the default back after it)."""
    i18n.set_language("en")


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
        try:
            server.stop()
        finally:                        # whatever happened, the worker's next test has PortAudio
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
