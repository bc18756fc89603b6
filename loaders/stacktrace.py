"""Stack traces: parse Python, Java, JavaScript, Go and .NET traces (also mangled); fingerprint."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

__all__ = [
    "Frame",
    "StackTrace",
    "file_references",
    "fingerprint",
    "frame_key",
    "message_template",
    "parse",
    "parse_all",
    "short_type",
]


@dataclass(frozen=True)
class Frame:
    """One stack frame; `line` 0 when unknown."""

    path: str
    line: int
    function: str
    module: str = ""
    in_app: bool = True


@dataclass
class StackTrace:
    """An error with its frames, innermost frame LAST whatever the source format."""

    language: str
    error_type: str
    message: str
    frames: list[Frame] = field(default_factory=list)

    @property
    def in_app_frames(self) -> list[Frame]:
        return [f for f in self.frames if f.in_app]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.error_type, self.frames, self.message)


# ---- normalising pasted text --------------------------------------------------------------
_FENCE = re.compile(r"^\s*(```|~~~)")
_QUOTE = re.compile(r"^\s*(>\s?)+")
_ELISION = re.compile(r"^\s*(\.\.\.(\s*\d+ more)?|\[\.\.\.\]|…|\(\.\.\.\)|<\.\.\.>)\s*$")

_PY_FRAME = re.compile(r'^File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>\S+))?')
_JAVA_FRAME = re.compile(
    r"^at (?:[\w.$-]+(?:@[\w.-]+)?/)?(?P<func>[\w$.<>/-]+)\((?P<loc>[\w$.-]+\.\w+:\d+|"
    r"[\w$.-]+\.\w+|Native Method|Unknown Source)\)"
)
_DOTNET_FRAME = re.compile(
    r"^at (?P<func>[\w.<>`$|\[\],+ ]+?)\((?P<args>[^)]*)\)"
    r"(?: in (?P<path>.+?):line (?P<line>\d+))?\s*$"
)
_JS_FRAME = re.compile(
    r"^at (?:(?P<func>.+?) \()?(?P<path>(?:file://)?[^()\s]+?):(?P<line>\d+)(?::(?P<col>\d+))?\)?$"
)
_JS_FF_FRAME = re.compile(r"^(?P<func>[\w$.<>/]*)@(?P<path>\S+?):(?P<line>\d+):(?P<col>\d+)$")
_GO_FUNC = re.compile(r"^(?P<func>(?:[\w.\-]+/)*[\w.\-]*\.[\w.()*\[\]\-]+)\((?P<args>[^)]*)\)$")
_GO_FILE = re.compile(r"^(?P<path>\S+\.go):(?P<line>\d+)(?: \+0x[0-9a-f]+)?$")
_GO_PANIC = re.compile(r"^panic: (?P<msg>.*?)(?: \[recovered\])?$")
_GO_ROUTINE = re.compile(r"^goroutine \d+ \[[^\]]*\]:?$")
# pytest's own traceback: `path:line: in func` per frame (outermost first), the error as
# `E   Type: message` lines, and a closing `path:line: Type` line
_PYTEST_FRAME = re.compile(r"^(?P<path>[^\s:]+\.py):(?P<line>\d+): in (?P<func>\S+)$")
_PYTEST_CALL = re.compile(r"^(?P<path>[^\s:]+\.py):(?P<line>\d+):$")
_PYTEST_END = re.compile(r"^(?P<path>[^\s:]+\.py):(?P<line>\d+): (?P<type>[\w.]+)$")
_PYTEST_E = re.compile(r"^E\s+(?P<text>.*)$")
_PY_ERROR = re.compile(r"^(?P<type>(?:[A-Za-z_]\w*\.)*[A-Z]\w*)(?::\s?(?P<msg>.*))?$")
_JVM_ERROR = re.compile(
    r"^(?:Exception in thread \"[^\"]*\" |Caused by: |Unhandled [eE]xception[.:] |"
    r"Uncaught (?:exception )?)?(?P<type>(?:[A-Za-z_$][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error|"
    r"Throwable|Failure|Fault)?)(?::\s?(?P<msg>.*?))?(?:\s*---> .*)?$"
)
_FILE_REF = re.compile(
    r"(?<![\w/.-])(?P<path>(?:[A-Za-z]:)?(?:[\w.@+-]+[/\\])*[\w.@+-]+\.(?:py|pyx|js|mjs|cjs|jsx|ts|"
    r"tsx|go|java|kt|scala|cs|fs|vb|rb|php|rs|c|cc|cpp|cxx|h|hpp|swift|m|ex|exs|erl|clj)):"
    r"(?P<line>\d+)\b"
)

_NOT_IN_APP_PATH = re.compile(
    r"(site-packages|dist-packages|/lib/python\d|\\lib\\python|<frozen |^<|node_modules|"
    r"^node:|^internal/|/usr/local/go/|/usr/lib/go|/go/pkg/mod/|/vendor/|/runtime/|"
    r"\.rustup|/jdk/|\.m2/repository|webpack/bootstrap)"
)
_NOT_IN_APP_JVM = (
    "java.",
    "javax.",
    "jakarta.",
    "jdk.",
    "sun.",
    "com.sun.",
    "kotlin.",
    "kotlinx.",
    "scala.",
    "groovy.",
    "org.springframework.",
    "org.apache.",
    "org.hibernate.",
    "io.netty.",
    "org.eclipse.jetty.",
    "org.junit.",
    "reactor.",
    "io.reactivex.",
    "System.",
    "Microsoft.",
    "Newtonsoft.",
)


def _strip_prefixes(raw_lines: list[str]) -> list[str]:
    """Remove a prefix that a tool put before every line of a traceback (`INTERNALERROR> `,
    a logger's `2024-05-01 12:00:00 ERROR app: `): the text before `Traceback (most recent
    call last)` is stripped from the following lines that start with it."""
    out: list[str] = []
    prefix = ""
    for raw in raw_lines:
        k = raw.find("Traceback (most recent call last)")
        if k > 0 and raw[:k].strip() and not raw[:k].strip().startswith(">"):
            prefix = raw[:k].rstrip()
        elif k == 0:
            prefix = ""
        if prefix and raw.startswith(prefix):
            raw = raw[len(prefix) :]
        elif prefix and raw.strip():
            prefix = ""
        out.append(raw)
    return out


def _clean_lines(text: str) -> list[str]:
    """Strip fences, quote markers, tool prefixes and indentation; drop elisions and empty
    lines."""
    out: list[str] = []
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for raw in _strip_prefixes(raw_lines):
        if _FENCE.match(raw):
            continue
        line = _QUOTE.sub("", raw).strip().replace("\t", " ")
        if not line or _ELISION.match(line):
            continue
        out.append(line)
    return _unwrap(out)


def _is_frame(line: str) -> bool:
    return bool(
        (_PY_FRAME.match(line) and ", in " in line)
        or _JAVA_FRAME.match(line)
        or _JS_FRAME.match(line)
        or _DOTNET_FRAME.match(line)
        or _GO_FILE.match(line)
    )


def _incomplete(line: str) -> bool:
    if line.startswith("File ") and not (_PY_FRAME.match(line) and ", in " in line):
        return True
    if line.startswith("at ") and line.count("(") > line.count(")"):
        return True
    return line.startswith("at ") and not _is_frame(line) and "(" not in line and len(line) > 20


def _unwrap(lines: list[str]) -> list[str]:
    """Join frames that an issue tracker wrapped over two or three lines."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        j = i + 1
        while _incomplete(line) and j < len(lines) and j <= i + 2 and not _starts_new(lines[j]):
            nxt = lines[j]
            glued, spaced = line + nxt, line + " " + nxt
            line = (
                glued
                if _is_frame(glued) or (not _is_frame(spaced) and _glue(line, nxt))
                else spaced
            )
            j += 1
        out.append(line)
        i = j
    return out


def _glue(prev: str, nxt: str) -> bool:
    return prev[-1:] in "./\\($_-" or nxt[:1] in "./\\):$_"


def _starts_new(line: str) -> bool:
    return line.startswith(("at ", "File ", "Traceback", "Caused by", "goroutine ")) or bool(
        _is_frame(line)
    )


# ---- per-language frame building --------------------------------------------------------
def _in_app(path: str, func: str = "") -> bool:
    if _NOT_IN_APP_PATH.search(path.replace("\\", "/")):
        return False
    return not (func and func.startswith(_NOT_IN_APP_JVM))


def _py_frame(m: re.Match[str]) -> Frame:
    path, func = m.group("path"), m.group("func") or "<module>"
    return Frame(path, int(m.group("line")), func, "", _in_app(path))


def _java_frame(m: re.Match[str]) -> Frame:
    full = m.group("func")
    cls, _, method = full.rpartition(".")
    loc = m.group("loc")
    fname, _, line = loc.partition(":")
    package = cls.rpartition(".")[0]
    if "." in fname and " " not in fname:
        path = (package.replace(".", "/") + "/" if package else "") + fname
    else:
        path = ""
    return Frame(path, int(line or 0), method, cls, not full.startswith(_NOT_IN_APP_JVM))


def _dotnet_frame(m: re.Match[str]) -> Frame:
    full = re.sub(r"\[[^\]]*\]|`\d+", "", m.group("func")).strip()
    cls, _, method = full.rpartition(".")
    path = (m.group("path") or "").replace("\\", "/")
    return Frame(path, int(m.group("line") or 0), method, cls, not full.startswith(_NOT_IN_APP_JVM))


def _js_frame(m: re.Match[str]) -> Frame:
    path = m.group("path")
    if path.startswith("file://"):
        path = path[7:]
    func = (m.group("func") or "<anonymous>").replace("async ", "").replace("new ", "").strip()
    module, _, short = func.rpartition(".")
    return Frame(path, int(m.group("line")), short or func, module, _in_app(path))


def _go_frame(func_line: str, m: re.Match[str]) -> Frame:
    fm = _GO_FUNC.match(func_line)
    full = fm.group("func") if fm else func_line
    pkg_path, _, rest = full.rpartition("/")
    pkg, _, fn = rest.partition(".")
    pkg = f"{pkg_path}/{pkg}" if pkg_path else pkg
    cls = ""
    mm = re.match(r"^\(\*?(?P<cls>[\w\[\]]+)\)\.(?P<fn>.+)$", fn)
    if mm:
        cls, fn = mm.group("cls"), mm.group("fn")
    path = m.group("path")
    std = fn and pkg.split("/")[0] in {"runtime", "net", "testing", "reflect", "sync", "syscall"}
    return Frame(
        path, int(m.group("line")), fn, f"{pkg}.{cls}" if cls else pkg, _in_app(path) and not std
    )


# ---- block parsers -----------------------------------------------------------------------
def _parse_python(lines: list[str], start: int) -> tuple[StackTrace, int]:
    frames: list[Frame] = []
    i = start + 1
    after_frame = False
    while i < len(lines):
        line = lines[i]
        m = _PY_FRAME.match(line)
        if m:
            frames.append(_py_frame(m))
            after_frame = True
        elif line.startswith("Traceback (most recent call last)"):
            break
        else:
            em = _PY_ERROR.match(line)
            if em and after_frame and not _is_source_line(line, lines, i):
                trace = StackTrace(
                    "python", em.group("type"), (em.group("msg") or "").strip(), frames
                )
                return trace, i + 1
        i += 1
    return StackTrace("python", "", "", frames), i


def _is_source_line(line: str, lines: list[str], i: int) -> bool:
    """A bare CapWords line right after a frame may be the quoted source, not the error."""
    prev = lines[i - 1] if i else ""
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    return (
        ":" not in line and _PY_FRAME.match(prev) is not None and _PY_FRAME.match(nxt) is not None
    )


def _parse_stack_after(
    lines: list[str], start: int, language: str, error_type: str, message: str
) -> tuple[StackTrace, int]:
    """Frames listed innermost first (Java, .NET, JS, Go) below an error line."""
    frames: list[Frame] = []
    i = start
    inner_end = -1
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- End of inner exception stack trace"):
            inner_end = len(frames)
        elif (fr := _frame_for(language, line, lines, i)) is not None:
            frame, used = fr
            frames.append(frame)
            i += used
            continue
        elif not (
            language == "go" and (_GO_ROUTINE.match(line) or line.startswith("created by"))
        ) and (frames or i > start + 2):
            break
        i += 1
    if inner_end >= 0:
        frames = frames[inner_end:]
    frames.reverse()
    return StackTrace(language, error_type, message, frames), i


def _frame_for(language: str, line: str, lines: list[str], i: int) -> tuple[Frame, int] | None:
    if language == "java" and (m := _JAVA_FRAME.match(line)):
        return _java_frame(m), 1
    if language == "dotnet" and (m := _DOTNET_FRAME.match(line)) and not _JAVA_FRAME.match(line):
        return _dotnet_frame(m), 1
    if language == "javascript" and (m := _JS_FRAME.match(line) or _JS_FF_FRAME.match(line)):
        return _js_frame(m), 1
    if language == "go" and i + 1 < len(lines) and (m := _GO_FILE.match(lines[i + 1])):
        if line.startswith("created by"):
            return None
        return _go_frame(line, m), 2
    return None


def _language_of(lines: list[str], i: int) -> str | None:
    """Guess the format of the frames below line i."""
    for line in lines[i + 1 : i + 2]:
        if _JAVA_FRAME.match(line):
            return "java"
        if _JS_FRAME.match(line) or _JS_FF_FRAME.match(line):
            return "javascript"
        if _DOTNET_FRAME.match(line):
            return "dotnet"
    return None


def _plausible_type(name: str) -> bool:
    return "." in name or bool(re.search(r"(Exception|Error|Throwable|Failure|Fault|Panic)$", name))


def _parse_pytest(lines: list[str], start: int) -> tuple[StackTrace, int]:
    """A pytest failure report from its first frame line: frames outermost first, as in
    Python's own tracebacks; the error from the `E   Type: message` line or the closing
    `path:line: Type` line."""
    frames: list[Frame] = []
    error_type = message = ""
    i = start
    while i < len(lines):
        line = lines[i]
        if m := _PYTEST_FRAME.match(line):
            frames.append(
                Frame(
                    m.group("path"),
                    int(m.group("line")),
                    m.group("func"),
                    "",
                    _in_app(m.group("path")),
                )
            )
        elif m := _PYTEST_CALL.match(line):  # the test's own frame, function in the header
            frames.append(
                Frame(m.group("path"), int(m.group("line")), "", "", _in_app(m.group("path")))
            )
        elif m := _PYTEST_END.match(line):
            frame = Frame(m.group("path"), int(m.group("line")), "", "", _in_app(m.group("path")))
            if not frames or (frames[-1].path, frames[-1].line) != (frame.path, frame.line):
                frames.append(frame)
            error_type = error_type or m.group("type")
            i += 1
            break
        elif (e := _PYTEST_E.match(line)) and not error_type:
            em = _PY_ERROR.match(e.group("text").strip())
            if em and _plausible_py_type(em.group("type")):
                error_type, message = em.group("type"), (em.group("msg") or "").strip()
        elif line.startswith(("Traceback (most recent call last)", "=====")) or (
            line.startswith("____") and frames
        ):
            break
        i += 1
    return StackTrace("python", error_type, message, frames), i


def _plausible_py_type(name: str) -> bool:
    return bool(re.search(r"(Error|Exception|Warning|Exit|Interrupt|Failed|Iteration)$", name))


def parse_all(text: str) -> list[StackTrace]:
    """Every stack trace found in `text`, in order of appearance."""
    lines = _clean_lines(text or "")
    traces: list[StackTrace] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("Traceback (most recent call last)"):
            trace, i = _parse_python(lines, i)
            traces.append(trace)
            continue
        if _PYTEST_FRAME.match(line) or (
            _PYTEST_CALL.match(line)
            and any(_PYTEST_FRAME.match(x) or _PYTEST_END.match(x) for x in lines[i + 1 : i + 40])
        ):
            trace, i = _parse_pytest(lines, i)
            traces.append(trace)
            continue
        pm = _GO_PANIC.match(line)
        if pm or _GO_ROUTINE.match(line):
            j = i + 1
            while j < len(lines) and not _GO_FILE.match(lines[j]) and j < i + 4:
                j += 1
            if j < len(lines) and _GO_FILE.match(lines[j]):
                msg = pm.group("msg") if pm else ""
                trace, i = _parse_stack_after(lines, j - 1, "go", "panic" if pm else "", msg)
                traces.append(trace)
                continue
        em = _JVM_ERROR.match(line)
        lang = _language_of(lines, i) if em and _plausible_type(em.group("type")) else None
        if em and lang:
            trace, i = _parse_stack_after(
                lines, i + 1, lang, em.group("type"), (em.group("msg") or "").strip()
            )
            traces.append(trace)
            continue
        i += 1
    return [t for t in traces if t.frames or t.error_type]


def parse(text: str) -> StackTrace | None:
    """The primary trace of `text`: Python's last (raised) block, otherwise the first one."""
    traces = parse_all(text)
    if not traces:
        return None
    py = [t for t in traces if t.language == "python" and t.error_type]
    return py[-1] if py else traces[0]


def file_references(text: str) -> list[Frame]:
    """`path:line` references anywhere in free text (log lines), plus every parsed frame."""
    refs: list[Frame] = []
    seen: set[tuple[str, int]] = set()
    for trace in parse_all(text):
        for f in trace.frames:
            if f.path and (f.path, f.line) not in seen:
                seen.add((f.path, f.line))
                refs.append(f)
    for m in _FILE_REF.finditer(text or ""):
        path, line = m.group("path").replace("\\", "/"), int(m.group("line"))
        if (path, line) not in seen and not path[0].isdigit():
            seen.add((path, line))
            refs.append(Frame(path, line, "", "", _in_app(path)))
    return refs


# ---- fingerprints ------------------------------------------------------------------------
def short_type(error_type: str) -> str:
    """`pkg.errors.PaymentError` -> `PaymentError` (SDKs and pasted traces qualify differently)."""
    base = (error_type or "").strip().split("[")[0]
    return re.split(r"[.$:]", base)[-1] or base


_FN_NOISE = (
    (re.compile(r"\$\$Lambda\$?[\w/$]*"), "$$Lambda"),
    (re.compile(r"lambda\$(\w+)\$\d+"), r"lambda$\1"),
    (re.compile(r"\.?func\d+(\.\d+)*$"), ".func"),
    (re.compile(r"<lambda_\w+>|<>c__DisplayClass[\w_]*|<(\w+)>b__\w+"), "<lambda>"),
    (re.compile(r"0x[0-9a-fA-F]+|\b\d+\b"), ""),
)


def frame_key(frame: Frame) -> str:
    """A frame without line numbers or ids: `basename:function`."""
    base = frame.path.replace("\\", "/").rsplit("/", 1)[-1] if frame.path else ""
    if not base and frame.module:
        base = frame.module.rsplit(".", 1)[-1]
    func = frame.function
    for rx, repl in _FN_NOISE:
        func = rx.sub(repl, func)
    return f"{base}:{func}"


def fingerprint(error_type: str, frames: list[Frame], message: str = "") -> str:
    """Hash of the short error type + normalised in-app frames (all frames if none is in-app).

    Falls back to the message template when there are no frames at all.
    """
    chosen = [f for f in frames if f.in_app] or list(frames)
    keys: list[str] = []
    for f in chosen:
        k = frame_key(f)
        if not keys or keys[-1] != k:
            keys.append(k)
    material = [short_type(error_type)] + (keys or [message_template(message, error_type)])
    return hashlib.sha1("\n".join(material).encode("utf-8")).hexdigest()[:16]


_TEMPLATE_RULES = (
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "<email>"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+"), "<url>"),
    (re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`"), "<str>"),
    (re.compile(r"(?<![\w<])(?:[A-Za-z]:)?(?:[/\\][\w.@+-]+){2,}[/\\]?"), "<path>"),
    (
        re.compile(
            r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"
        ),
        "<hex>",
    ),
    (re.compile(r"(?<![\w<])[-+]?\d+(?:[.,:/-]\d+)*(?:[eE][-+]?\d+)?"), "<num>"),
)


# Errors whose quoted words name a key or attribute (which key, which attribute is the bug),
# not a value: `KeyError: 'JPY'`, `'NoneType' object has no attribute 'total'`.
_KEYED_TYPES = frozenset({"KeyError", "AttributeError", "NameError", "ImportError"})
_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"|`([^`\n]*)`")
_NAME_LIKE = re.compile(r"^[A-Za-z_][\w.\-]{0,63}$")
_DIGIT_RUN = re.compile(r"\d{3,}")
_KEEP = 0xE000  # private-use characters hold the kept quotes while the rules run


def _keeps_quote(text: str) -> bool:
    """A quoted key or attribute name: an identifier, not an id, number or free text."""
    return bool(_NAME_LIKE.match(text)) and not _DIGIT_RUN.search(text)


def message_template(message: str, error_type: str = "") -> str:
    """Message with uuids, emails, urls, quoted values, paths, hex ids and numbers normalised.

    For a `KeyError`, `AttributeError`, `NameError` or `ImportError` (`error_type`, qualified
    or not), a quoted word that looks like a name stays: it says which key or attribute.
    """
    out = (message or "").strip()
    kept: list[str] = []
    if short_type(error_type) in _KEYED_TYPES:

        def protect(m: re.Match[str]) -> str:
            inner = next(g for g in m.groups() if g is not None)
            if not _keeps_quote(inner):
                return m.group(0)
            kept.append(m.group(0))
            return chr(_KEEP + len(kept) - 1)

        out = _QUOTED.sub(protect, out[:2000])
    for rx, repl in _TEMPLATE_RULES:
        out = rx.sub(repl, out)
    for i, q in enumerate(kept):
        out = out.replace(chr(_KEEP + i), q)
    return re.sub(r"\s+", " ", out)[:500]
