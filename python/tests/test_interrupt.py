"""Behaviour around the GIL: training runs without it (other Python threads keep running), and
Ctrl-C, or an exception from a callback, stops a fit between steps, leaves a usable model with
the tables reached, and is raised afterwards."""

import os
import signal
import threading
import time

import numpy as np
import pytest

from conftest import quick

LONG = 10**6  # epochs: far more than any test waits for; the tests stop the fit


def test_ctrl_c_stops_cleanly(tiny):
    model = quick(epochs=LONG)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(tiny, progress=False)
    finally:
        timer.cancel()
    assert np.isfinite(model.user_factors).all()
    ids, _ = model.recommend(0, k=3)
    assert len(ids) == 3
    assert model.evaluate(tiny)["recall@20"] >= 0


def test_callback_exception_stops_cleanly(tiny):
    def interrupt(logs):
        if logs["epoch"] == 3:
            raise KeyboardInterrupt

    model = quick(epochs=LONG)
    with pytest.raises(KeyboardInterrupt):
        model.fit(tiny, callbacks=[interrupt], progress=False)
    reference = quick(epochs=3).fit(tiny, progress=False)
    # Stopped at the end of epoch 3: exactly the tables of a 3-epoch run.
    assert np.array_equal(model.user_factors, reference.user_factors)

    class Boom(Exception):
        pass

    def boom(logs):
        raise Boom("from the callback")

    with pytest.raises(Boom, match="from the callback"):
        quick(epochs=LONG).fit(tiny, callbacks=[boom], progress=False)


def test_gil_released_during_fit(tiny):
    stamps, running, started = [], threading.Event(), threading.Event()
    running.set()

    def spin():
        started.set()
        while running.is_set():
            stamps.append(time.monotonic())
            time.sleep(0)

    worker = threading.Thread(target=spin)
    worker.start()
    started.wait()
    epochs = []

    def stop_after_a_second(logs):
        epochs.append(time.monotonic())
        return epochs[-1] - epochs[0] > 1.0

    try:
        begin = time.monotonic()
        quick(epochs=LONG).fit(tiny, callbacks=[stop_after_a_second], progress=False)
        end = time.monotonic()
    finally:
        running.clear()
        worker.join()
    # Held through the fit, the GIL would starve the thread (it would run only inside the epoch
    # callbacks); released, the thread runs between them, in the middle of the run as well.
    middle = [t for t in stamps if begin + 0.3 * (end - begin) < t < begin + 0.7 * (end - begin)]
    assert middle
