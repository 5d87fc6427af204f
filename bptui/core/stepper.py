"""One phase of a step at a time: what the app's `.` key walks through.

A weight change is four kinds of phase, in this order:

    forward                   every layer's net input and activation
    loss                      the error, and the output layers' delta
    backward: <layer>         one layer's delta, from the layers ahead (output first),
                              and the gradients of the weights into it
    update                    every weight changes by -rate x gradient + momentum x last

Between phases the stepper holds the partly computed pass, so a view can show what
is already computed and mark the rest as not yet computed, never as a stale number:
a layer whose ``pass_.delta`` is None has not been reached by this step's backward pass.
"""

from __future__ import annotations

import numpy as np

from bptui.core.network import Pass
from bptui.core.training import Run

FORWARD, LOSS, UPDATE = "forward", "loss", "update"
BACKWARD = "backward: "
PAUSED, RUNNING = "paused", "running"  # what the app shows when no step is under way


class Stepper:
    def __init__(self, run: Run):
        self.run = run
        self.phase: str | None = None  # None: at rest, between two weight changes
        self.pass_: Pass | None = None
        self.rows = slice(None)  # which training patterns the pass is over
        self._patterns = None
        self._layers = list(reversed(run.network.computed))
        self._next_layer = 0

    @property
    def mid_step(self) -> bool:
        """True while a weight change has started but not finished."""
        return self.phase not in (None, UPDATE)

    def step(self) -> str:
        """Run the next phase and return its name."""
        with np.errstate(all="ignore"):  # overflow on the way to diverging is an outcome
            return self._step()

    def _step(self) -> str:
        run, net = self.run, self.run.network
        if not self.mid_step:
            self.rows, *self._patterns = run.next_patterns()
            self.pass_ = net.forward(self._patterns[0])
            self._next_layer = 0
            self.phase = FORWARD
        elif self.phase == FORWARD:
            _, t, care = self._patterns
            net.output_error(self.pass_, t, care, run.training.margin)
            self.phase = LOSS
        elif self._next_layer < len(self._layers):
            unit = self._layers[self._next_layer]
            net.backward_layer(self.pass_, unit)
            self._next_layer += 1
            self.phase = BACKWARD + unit.name
        else:
            run.finish_change(self.pass_)
            self.phase = UPDATE
        return self.phase

    @property
    def blame_next(self) -> bool:
        """True when the next phase is the first backward one: the error is known, and
        not one delta has been sent back yet (when the quiz asks its question)."""
        return self.phase == LOSS

    def finish_backward(self) -> None:
        """Send the blame back through every layer, stopping before the update."""
        while self.mid_step and self._next_layer < len(self._layers):
            self.step()

    def finish(self) -> None:
        """Complete a weight change that is under way, so that training can go on whole."""
        while self.mid_step:
            self.step()

    def reset(self) -> None:
        self.phase = None
        self.pass_ = None
        self.rows = slice(None)
        self._patterns = None
        self._next_layer = 0
