"""The tasks of a class (students' sheets, exercise variants) spread over processes, with a
progress bar on a terminal.  Used by the command line only: the library's functions stay
single-process and silent."""

from __future__ import annotations

import gc
import os
import sys


def in_processes(function, tasks: list, jobs: int | None, quiet: bool, unit: str):
    """``function`` of each task, in the order of ``tasks``, spread over ``jobs`` processes (all cores when None).

    The first task runs here, before any worker starts: it does the symbolic
    work of the network's shape, which every forked worker then inherits
    instead of repeating.  Results come back in order, so the output does not
    depend on the number of processes.  A progress bar counts the tasks on a
    terminal, unless ``quiet``.
    """
    jobs = min(jobs or os.cpu_count() or 1, len(tasks))
    with _progress(len(tasks), unit, quiet) as bar:
        if not tasks:
            return
        yield function(tasks[0])
        bar.update()
        if jobs <= 1:
            for task in tasks[1:]:
                yield function(task)
                bar.update()
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        rest = tasks[1:]
        # Chunks small enough to keep both the workers and the bar busy, large enough to spare the pipes.
        chunk = max(1, min(16, len(rest) // (jobs * 8)))
        # The workers' garbage collections need not trace what they inherit (SymPy's objects, the
        # shape's work): frozen, it is left out of them, and its pages stay shared with this process.
        gc.freeze()
        try:
            from .maths.derivation import heap_frozen_by_parent

            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method),
                                     initializer=heap_frozen_by_parent) as pool:
                for result in pool.map(function, rest, chunksize=chunk):
                    yield result
                    bar.update()
        finally:
            gc.unfreeze()


def _final_count_shown():
    """The bar's class, made where a bar is shown: tqdm is imported only then."""
    import tqdm as progress

    class FinalCountShown(progress.tqdm):
        """A bar that draws its last count before it clears itself: a run shorter than
        the bar's refresh interval still shows that every task was done."""

        def close(self) -> None:
            if not self.disable and self.n == self.total:
                self.refresh()
            super().close()

    return FinalCountShown


class _NoProgress:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None


def _progress(total: int, unit: str, quiet: bool):
    """A progress bar on standard error when it is a terminal (and not ``quiet``), else nothing."""
    if quiet or total < 2 or not sys.stderr.isatty():
        return _NoProgress()
    import tqdm as progress

    # No monitor thread: a process pool is forked while the bar is shown.
    progress.tqdm.monitor_interval = 0
    return _final_count_shown()(total=total, unit=f" {unit}", file=sys.stderr, leave=False, dynamic_ncols=True)
