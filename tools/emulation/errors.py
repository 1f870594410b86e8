"""The emulator's own exceptions (imported by every module of the package, so they live apart)."""

from __future__ import annotations


class EmulatorError(Exception):
    """The template or the ASL cannot be emulated as written (wiring error), or an execution
    could not be run to completion by the emulator itself."""


class LambdaCrash(Exception):
    """Raise from an ``on_invoke`` hook (or a handler) to simulate a Lambda failure whose
    ``errorType`` is not a Python class name, e.g. ``Runtime.ExitError`` (process crashed)
    or ``Sandbox.Timedout``. Any other exception gives ``errorType`` = its class name."""

    def __init__(
        self, message: str = "Runtime exited with error: signal: killed", error_type: str = "Runtime.ExitError"
    ):
        super().__init__(message)
        self.error_type = error_type
