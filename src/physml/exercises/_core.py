"""The exercise model: results, the registry, and the guards that keep checkers kind.

A checker is a function ``checker(answer) -> str | None`` registered with
:func:`exercise`. It tests the learner's answer on several cases and either returns
(optionally a short note for a correct answer) or raises :class:`Wrong` with one short,
specific message. :func:`evaluate` wraps every checker so that, whatever the learner hands
in, the outcome is a :class:`Result` and never a traceback.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any, Literal

import jax
import numpy as np

Status = Literal["correct", "incorrect", "not attempted", "error"]

#: Largest array an answer may return before a checker refuses to look at it.
MAX_ANSWER_SIZE = 10**6


class Wrong(Exception):
    """Raised by a checker: the answer is wrong, and ``str(exc)`` says how."""


class NotAttempted(Exception):
    """Raised by a checker: the answer is still the placeholder."""


class TimeUp(BaseException):
    """The learner's code ran past its time limit.

    A ``BaseException`` so that a bare ``except Exception`` in learner code cannot
    swallow it.
    """


@dataclass(frozen=True)
class Result:
    """The outcome of checking one answer.

    Attributes:
        exercise: exercise id, e.g. ``"0.1"``.
        status: ``"correct"``, ``"incorrect"``, ``"not attempted"`` or ``"error"``
            (the exercise itself could not be checked, e.g. an unknown id).
        message: one short sentence for the learner.
        points: points earned.
        max_points: points available.
    """

    exercise: str
    status: Status
    message: str
    points: float
    max_points: float

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def as_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "status": self.status,
            "message": self.message,
            "points": self.points,
            "max_points": self.max_points,
        }

    def __str__(self) -> str:
        mark = {"correct": "✓", "incorrect": "✗", "not attempted": "…", "error": "!"}
        return f"{mark[self.status]} Exercise {self.exercise} — {self.status}. {self.message}"

    def __repr__(self) -> str:  # what a terminal or a plain-text frontend shows
        return str(self)

    def _repr_html_(self) -> str:
        colour = {
            "correct": ("#0a6b2d", "#e6f4ea"),
            "incorrect": ("#8a1c1c", "#fdecea"),
            "not attempted": ("#5f4b00", "#fff8e1"),
            "error": ("#5a2d82", "#f3e8fd"),
        }[self.status]
        return (
            f'<div class="physml-result physml-{self.status.replace(" ", "-")}" '
            f'style="color:{colour[0]};background:{colour[1]};padding:0.4em 0.8em;'
            f'border-left:4px solid {colour[0]};border-radius:3px;font-family:sans-serif">'
            f"<b>Exercise {escape(self.exercise)} — {escape(self.status)}.</b> "
            f"{escape(self.message)}</div>"
        )


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    Attributes:
        id: ``"<chapter>.<number>"``, e.g. ``"0.1"``.
        title: a few words shown in reports.
        answer: name of the variable (or function) the learner defines in the answer
            cell; the grader looks it up in the notebook's namespace.
        notebook: slug of the exercise notebook, e.g. ``"00_how_to_use"``.
        checker: ``checker(answer) -> str | None``; raises :class:`Wrong`.
        hints: graded hints, mildest first.
        points: points for a correct answer.
        time_limit: seconds the learner's code may run during one check.
    """

    id: str
    title: str
    answer: str
    notebook: str
    checker: Callable[[Any], str | None]
    hints: tuple[str, ...] = ()
    points: float = 1.0
    time_limit: float = 10.0
    correct_message: str = "Well done."


REGISTRY: dict[str, Exercise] = {}


def exercise(
    id: str,
    *,
    title: str,
    answer: str,
    notebook: str,
    hints: tuple[str, ...] | list[str] = (),
    points: float = 1.0,
    time_limit: float = 10.0,
) -> Callable[[Callable[[Any], str | None]], Callable[[Any], str | None]]:
    """Register the decorated function as the checker of exercise ``id``."""

    def register(checker: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
        if id in REGISTRY:
            raise ValueError(f"exercise {id!r} is registered twice")
        REGISTRY[id] = Exercise(
            id=id,
            title=title,
            answer=answer,
            notebook=notebook,
            checker=checker,
            hints=tuple(hints),
            points=points,
            time_limit=time_limit,
        )
        return checker

    return register


# --------------------------------------------------------------------------- guards


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeUp` in the block after ``seconds`` of wall time.

    Uses ``SIGALRM``, so it can interrupt Python code only in the main thread of a POSIX
    process (a Jupyter kernel's cells run there). Elsewhere the block runs unlimited.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeUp(f"stopped after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def is_placeholder(answer: Any) -> bool:
    """True for the values an untouched answer cell holds: ``None``, ``...``."""
    return answer is None or answer is Ellipsis or answer is NotImplemented


def describe(value: Any) -> str:
    """A short, safe description of any object's type (for messages)."""
    try:
        if isinstance(value, np.ndarray) or hasattr(value, "shape"):
            return f"an array of shape {tuple(value.shape)}"
        return f"a {type(value).__name__}"
    except Exception:
        return "an object"


def call(fn: Any, *args: Any, what: str = "your function") -> Any:
    """Call the learner's function, turning every failure into :class:`Wrong`.

    A function that raises ``NotImplementedError`` (the placeholder's body) counts as
    not attempted. Time is limited by the enclosing :func:`evaluate`.
    """
    if is_placeholder(fn):
        raise NotAttempted
    if not callable(fn):
        raise Wrong(f"expected a function, but the answer is {describe(fn)}.")
    try:
        return fn(*args)
    except NotImplementedError as exc:
        raise NotAttempted from exc
    except (Wrong, NotAttempted, TimeUp, KeyboardInterrupt):
        raise
    except RecursionError as exc:
        raise Wrong(f"{what} recursed without end (RecursionError).") from exc
    except BaseException as exc:  # SystemExit, MemoryError, ... from the learner's code
        text = _first_line(exc)
        raise Wrong(f"{what} raised {type(exc).__name__}{': ' + text if text else ''}.") from exc


def _first_line(exc: BaseException) -> str:
    try:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    except Exception:
        return ""
    return text if len(text) <= 120 else text[:117] + "..."


def as_array(value: Any, shape: tuple[int, ...] | None = None, *, what: str = "the answer") -> np.ndarray:
    """Convert an answer to a float64 array, or raise :class:`Wrong` saying why not.

    Checks, in order: ``None`` (a forgotten ``return``), strings, size, conversion to
    numbers, complex values, ``shape`` when given, NaN and infinities.
    """
    if value is None:
        raise Wrong(f"{what} is None — did you forget a `return`?")
    if isinstance(value, (str, bytes)):
        raise Wrong(f"{what} is text ({value[:30]!r}); expected a number, not a string.")
    if callable(value) and not hasattr(value, "shape"):
        raise Wrong(f"{what} is a function; expected a number — did you forget to call it?")
    size = _safe_size(value)
    if size is not None and size > MAX_ANSWER_SIZE:
        raise Wrong(f"{what} has {size} entries; expected shape {shape if shape is not None else '()'}.")
    try:
        with np.errstate(all="ignore"):
            array = np.asarray(value)
            if np.iscomplexobj(array):
                if np.all(array.imag == 0):
                    array = array.real
                else:
                    raise Wrong(f"{what} is complex; expected real numbers.")
            array = array.astype(np.float64)
    except Wrong:
        raise
    except Exception as exc:
        raise Wrong(f"{what} is {describe(value)}, which is not a number or an array of numbers.") from exc
    if array.size > MAX_ANSWER_SIZE:
        raise Wrong(f"{what} has {array.size} entries; expected shape {shape}.")
    if shape is not None and array.shape != tuple(shape):
        raise Wrong(f"{what} has shape {array.shape}; expected shape {tuple(shape)}.")
    if np.any(np.isnan(array)):
        raise Wrong(f"{what} contains NaN.")
    if np.any(np.isinf(array)):
        raise Wrong(f"{what} contains an infinity — an overflow?")
    return array


def as_float(value: Any, *, what: str = "the answer") -> float:
    """Convert an answer to one real number, or raise :class:`Wrong`."""
    if isinstance(value, bool):
        raise Wrong(f"{what} is a bool ({value}); expected a number.")
    return float(as_array(value, (), what=what))


def _safe_size(value: Any) -> int | None:
    try:
        shape = value.shape
        return int(math.prod(int(n) for n in shape))
    except Exception:
        pass
    try:
        return len(value) if isinstance(value, (list, tuple)) else None
    except Exception:
        return None


def tolerance(*answers: Any) -> float:
    """Relative tolerance suited to the precision the learner computed in."""
    for answer in answers:
        dtype = getattr(answer, "dtype", None)
        if dtype is not None and np.dtype(dtype) in (np.float32, np.float16, np.complex64):
            return 1e-4
    return 1e-8


def close(got: float | np.ndarray, expected: float | np.ndarray, rtol: float, atol: float = 0.0) -> bool:
    """``True`` when ``got`` matches ``expected`` to ``rtol`` (and ``atol``) everywhere."""
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(np.asarray(got) - expected) <= atol + rtol * np.abs(expected)))


# --------------------------------------------------------------------------- evaluation


def evaluate(exercise_id: Any, answer: Any) -> Result:
    """Check ``answer`` against exercise ``exercise_id`` and return a :class:`Result`.

    Never raises: unknown ids, placeholders, wrong types, NaN, exceptions (``SystemExit``
    included), endless loops and interrupts in the learner's code all become a result with
    one short message.
    """
    key = str(exercise_id).strip() if isinstance(exercise_id, (str, int, float)) else None
    ex = REGISTRY.get(key) if key is not None else None
    if ex is None:
        known = ", ".join(sorted(REGISTRY, key=_id_order))
        return Result(
            str(exercise_id)[:20], "error", f"no exercise {exercise_id!r}; known: {known}.", 0.0, 0.0
        )
    if is_placeholder(answer):
        return Result(
            ex.id,
            "not attempted",
            "Replace the placeholder with your answer.",
            0.0,
            ex.points,
        )
    try:
        with time_limit(ex.time_limit):
            note = ex.checker(answer)
    except NotAttempted:
        return Result(
            ex.id,
            "not attempted",
            "Your function still raises NotImplementedError: write its body.",
            0.0,
            ex.points,
        )
    except Wrong as exc:
        return Result(ex.id, "incorrect", _clip(str(exc)), 0.0, ex.points)
    except TimeUp:
        return Result(
            ex.id,
            "incorrect",
            f"your code was stopped after {ex.time_limit:g} s — is there an endless loop?",
            0.0,
            ex.points,
        )
    except KeyboardInterrupt:
        return Result(ex.id, "incorrect", "the check was interrupted.", 0.0, ex.points)
    except RecursionError:
        return Result(ex.id, "incorrect", "your code recursed without end (RecursionError).", 0.0, ex.points)
    except BaseException as exc:  # a checker must never show a traceback
        return Result(
            ex.id, "incorrect", f"checking raised {type(exc).__name__}: {_first_line(exc)}", 0.0, ex.points
        )
    message = ex.correct_message if not isinstance(note, str) or not note else note
    return Result(ex.id, "correct", _clip(message), ex.points, ex.points)


def _clip(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _id_order(exercise_id: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in exercise_id.split("."))
    except ValueError:
        return (10**6,)


@dataclass
class _HintState:
    shown: dict[str, int] = field(default_factory=dict)


_HINTS = _HintState()


@dataclass(frozen=True)
class Hint:
    """A hint as shown in a notebook (HTML) or a terminal (plain text)."""

    exercise: str
    text: str
    number: int
    total: int

    def __str__(self) -> str:
        if self.total == 0 or self.number == 0:
            return f"Exercise {self.exercise}: {self.text}"
        return f"Hint {self.number} of {self.total} for exercise {self.exercise}: {self.text}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return (
            '<div class="physml-hint" style="color:#0b3d91;background:#e8f0fe;padding:0.4em 0.8em;'
            'border-left:4px solid #0b3d91;border-radius:3px;font-family:sans-serif">'
            f"{escape(str(self))}</div>"
        )


def next_hint(exercise_id: Any) -> Hint:
    """The next of exercise ``exercise_id``'s hints, mildest first; repeats the last one."""
    key = str(exercise_id).strip()
    ex = REGISTRY.get(key)
    if ex is None:
        known = ", ".join(sorted(REGISTRY, key=_id_order))
        return Hint(key[:20], f"no exercise {exercise_id!r}; known: {known}.", 0, 0)
    if not ex.hints:
        return Hint(ex.id, "this exercise has no hints.", 0, 0)
    shown = min(_HINTS.shown.get(ex.id, 0) + 1, len(ex.hints))
    _HINTS.shown[ex.id] = shown
    text = ex.hints[shown - 1]
    if shown == len(ex.hints):
        text += " (That was the last hint; the book shows a solution behind a toggle.)"
    return Hint(ex.id, text, shown, len(ex.hints))


#: Advice for an answer that matches only to float32 precision after conversion to a float.
FLOAT32_ADVICE = (
    "Computed in float32 and then converted to a Python float? Return the JAX value as it is "
    "(the check then allows float32 rounding), or compute in float64 with NumPy."
)


def call_quietly(answer: Any, *args: Any, what: str = "your function", advice: str = "") -> Any:
    """:func:`call` with NumPy's floating-point warnings off; ``advice`` is added to a failure.

    A naive ``np.exp`` then returns ``inf`` or ``0`` (as it does in a notebook) rather than
    raising where warnings are errors, so that the checker can diagnose the overflow.
    """
    try:
        with np.errstate(all="ignore"):
            return call(answer, *args, what=what)
    except Wrong as exc:
        if advice:
            raise Wrong(f"{exc} {advice}") from exc
        raise


def in_float64(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> np.ndarray:
    """``fn(*args, **kwargs)`` evaluated with JAX in float64, as a NumPy array: the exact
    value a checker compares to, whatever precision the learner's kernel uses."""
    with jax.enable_x64(True):
        return np.asarray(fn(*args, **kwargs), dtype=np.float64)


def nonfinite(raw: Any) -> str | None:
    """``"nan"``, ``"+inf"`` or ``"-inf"`` when an answer converts to numbers and holds one
    (NaN first, then +inf), else ``None`` — also for anything that is not numbers at all,
    which :func:`as_array` then reports. Lets a checker diagnose an overflow before
    :func:`as_array` rejects the value."""
    try:
        if raw is None or isinstance(raw, (str, bytes, bool)) or callable(raw):
            return None
        size = _safe_size(raw)
        if size is not None and size > MAX_ANSWER_SIZE:
            return None
        with np.errstate(all="ignore"):
            array = np.asarray(raw)
            if np.iscomplexobj(array):
                return None
            array = array.astype(np.float64)
    except Exception:
        return None
    if np.isnan(array).any():
        return "nan"
    if np.isposinf(array).any():
        return "+inf"
    if np.isneginf(array).any():
        return "-inf"
    return None


def as_number(raw: Any, *, what: str = "the answer") -> float:
    """One real number from an answer — a scalar or an array with one entry — or :class:`Wrong`."""
    got = as_array(raw, what=what)
    if got.size != 1:
        raise Wrong(f"{what} is an array of shape {got.shape}; expected one number.")
    return float(got.reshape(()))


def show(x: Any) -> str:
    """A short rendering of a number or a small array for a message."""
    if np.ndim(x) == 0:
        return f"{float(x):.6g}"
    with np.printoptions(precision=4, suppress=False, threshold=20):
        return np.array2string(np.asarray(x, dtype=np.float64), separator=", ")
