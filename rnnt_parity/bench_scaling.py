"""`bench loss --plot PATH`: how each RNN-T loss's time grows with T, U and V.

From a base shape (B, T, U, V), each of T, U and V in turn is multiplied by every factor in
`factors`, the other sizes held at the base's, and every implementation is timed on every
shape, each measurement in its own child process (`bench.measure`: median seconds of
`repeats` calls of loss + gradient, float32 input, blank last, reduction mean). Printed:
one row per (axis, size, implementation), then each implementation's log-log slope per
axis: the least-squares slope of log(seconds) against log(size), 1 where time grows in
proportion to the size, 2 where it grows with its square. Written: one figure of three
log-log panels (seconds against T, U and V), one line per implementation, PNG or SVG as
PATH's suffix says, atomically and never over an existing file without force.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rnnt_parity import bench
from rnnt_parity.files import atomic_output, refuse_to_overwrite

BASE_SHAPE = (4, 150, 40, 29)
FACTORS = (1, 2, 4, 8)
AXES = {"T": (1, "T (frames)"), "U": (2, "U (target labels)"), "V": (3, "V (vocabulary)")}
"""Each swept axis: its index in (B, T, U, V) and its panel's label."""
PLOT_FORMATS = (".png", ".svg")


def check_plot_path(path: Path, force: bool) -> None:
    """ValueError unless `path` ends in .png or .svg, is not a folder and its folder exists;
    FileExistsError when it exists and `force` is not set."""
    if path.suffix.lower() not in PLOT_FORMATS:
        raise ValueError(f"--plot must end in {' or '.join(PLOT_FORMATS)}, got {path}")
    if path.is_dir():
        raise ValueError(f"--plot {path} is a folder, not a file")
    if not path.parent.is_dir():
        raise ValueError(f"--plot {path}: folder {path.parent} does not exist")
    refuse_to_overwrite(path, force)


def sweep_shapes(base=BASE_SHAPE, factors=FACTORS) -> dict[str, list[tuple[int, ...]]]:
    """For each axis of `AXES`, the shapes with that size of `base` times each factor."""
    sweeps = {}
    for axis, (index, _) in AXES.items():
        sweeps[axis] = [tuple(size * factor if i == index else size
                              for i, size in enumerate(base)) for factor in factors]
    return sweeps


def log_log_slope(sizes, seconds) -> float:
    """Least-squares slope of log(seconds) against log(sizes); NaN with fewer than 2 sizes."""
    if len(sizes) < 2:
        return math.nan
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def measure_sweep(base=BASE_SHAPE, factors=FACTORS, repeats: int = 3, implementations=None,
                  out=print) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{axis: {implementation: [(size, median seconds), ...]}}, printing a row per point; a
    shape shared by several axes is measured once; a failed point is printed, not kept."""
    names = implementations or bench.installed_loss_implementations()
    seconds: dict[tuple, float | None] = {}
    points: dict[str, dict[str, list[tuple[int, float]]]] = {}
    out(f"{'axis':<4} {'size':>6} {'(B, T, U, V)':>22} {'implementation':<21} {'median s':>9}")
    for axis, shapes in sweep_shapes(base, factors).items():
        points[axis] = {name: [] for name in names}
        for shape in shapes:
            size = shape[AXES[axis][0]]
            for name in names:
                if (name, shape) not in seconds:
                    try:
                        seconds[name, shape] = bench.measure(name, shape, repeats)["median_s"]
                    except RuntimeError as error:  # the library failed in its child process
                        seconds[name, shape] = None
                        out(f"{axis:<4} {size:6d} {str(shape):>22} {name:<21} failed: "
                            f"{bench.failure_summary(error)}")
                if seconds[name, shape] is not None:
                    points[axis][name].append((size, seconds[name, shape]))
                    out(f"{axis:<4} {size:6d} {str(shape):>22} {name:<21} "
                        f"{seconds[name, shape]:9.4f}")
    return points


def slopes(points) -> dict[str, dict[str, float]]:
    """{implementation: {axis: log-log slope}} of `measure_sweep`'s points."""
    table: dict[str, dict[str, float]] = {}
    for axis, lines in points.items():
        for name, line in lines.items():
            sizes, seconds = zip(*line, strict=True) if line else ((), ())
            table.setdefault(name, {})[axis] = log_log_slope(sizes, seconds)
    return table


def write_plot(points, path: Path, title: str, force: bool = False) -> None:
    """One log-log panel per axis of `points`, one line per implementation, at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fitted = slopes(points)
    figure, panels = plt.subplots(1, len(points), figsize=(5 * len(points), 4.5),
                                  sharey=True, squeeze=False)
    for panel, (axis, lines) in zip(panels[0], points.items(), strict=True):
        for name, line in lines.items():
            if line:
                sizes, seconds = zip(*line, strict=True)
                panel.plot(sizes, seconds, marker="o",
                           label=f"{name} (slope {fitted[name][axis]:.2f})")
        panel.set(xscale="log", yscale="log", xlabel=AXES[axis][1])
        panel.set_xticks(sorted({size for line in lines.values() for size, _ in line}))
        panel.xaxis.set_major_formatter(ScalarFormatter())  # the sizes swept, as integers
        panel.xaxis.set_minor_formatter(NullFormatter())
        panel.grid(True, which="both", alpha=0.3)
        if panel.lines:
            panel.legend(fontsize="small")
    panels[0][0].set_ylabel("seconds per call (loss + gradient)")
    figure.suptitle(title)
    figure.tight_layout()
    try:
        with atomic_output(path, force) as temporary:
            figure.savefig(temporary, format=path.suffix[1:].lower(), dpi=100)
    finally:
        plt.close(figure)


def run_scaling_sweep(path: Path, base=BASE_SHAPE, factors=FACTORS, repeats: int = 3,
                      force: bool = False, implementations=None, out=print) -> dict:
    """`measure_sweep`, the slopes printed, and the figure written at `path`; returns
    {"points": ..., "slopes": ...}."""
    check_plot_path(path, force)
    what = (f"from (B, T, U, V) = {tuple(base)}, one axis at a time: loss + gradient, "
            f"float32, CPU, median of {repeats} calls")
    out(f"scaling {what}")
    points = measure_sweep(base, factors, repeats, implementations, out)
    fitted = slopes(points)
    out("log-log slope of seconds against size (1: linear, 2: quadratic):")
    out(f"{'implementation':<21} " + " ".join(f"{axis:>6}" for axis in points))
    for name, by_axis in fitted.items():
        out(f"{name:<21} " + " ".join(f"{by_axis[axis]:6.2f}" for axis in points))
    write_plot(points, path, f"RNN-T loss scaling {what}", force)
    out(f"scaling plot written to {path}")
    return {"points": points, "slopes": fitted}
