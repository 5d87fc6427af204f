"""bptui: watch backpropagation happen, in a terminal."""

import os

# bptui's networks are small: waking a second BLAS thread for a 32 x 1438 product costs
# more than it saves, and on a busy machine the threads spin against each other and the
# app's own (training the digits took 0.4 s with one thread, 1.6 s with two, measured
# on 2 cores). So one BLAS thread, unless the user asks for more before bptui (or numpy)
# is first imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

__version__ = "0.1.0"
