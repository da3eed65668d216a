"""The progress bar of fit(): tqdm when it is installed, else the library's own
(train/training_callbacks.hpp ProgressBar on stderr: redrawn in place on a terminal, one line per epoch
otherwise)."""


def tqdm_available():
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


class TqdmBar:
    """on_step(epoch, epochs, step, steps, loss) for fit(), drawing one tqdm bar over all steps."""

    def __init__(self):
        self.bar = None

    def __call__(self, epoch, epochs, step, steps, loss):
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=epochs * steps, unit="step", desc="fit")
        self.bar.n = (epoch - 1) * steps + step
        self.bar.set_postfix(epoch=f"{epoch}/{epochs}", loss=f"{loss:.5g}", refresh=False)
        self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.bar.close()


def progress_of(progress):
    """(on_step or None, library_bar: bool) for fit(progress=...).

    True: tqdm when installed, else the library's bar; "tqdm" or "library" choose one;
    False: none.
    """
    if progress is False or progress is None:
        return None, False
    if progress is True:
        progress = "tqdm" if tqdm_available() else "library"
    if progress == "library":
        return None, True
    if progress == "tqdm":
        if not tqdm_available():
            raise ImportError("progress='tqdm' needs tqdm (pip install tqdm, or apt-get install "
                              "python3-tqdm); progress=True falls back to the library's bar")
        return TqdmBar(), False
    raise ValueError(f"progress must be True, False, 'tqdm' or 'library', got {progress!r}")
