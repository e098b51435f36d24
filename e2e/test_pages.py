"""Every page of the built book, opened in a real Chromium.

The book in ``_build/html`` is served on 127.0.0.1 and each content page is visited in a
fresh browser context. A page passes when it logs no JavaScript error, asks nothing of the
network (MathJax is served by the book itself; requests that leave 127.0.0.1 are blocked,
so a page that needs the internet fails here as it would for an offline reader), has all
its math typeset, loads every image, and — depending on what it is — offers launch buttons
that point at its own notebook, keeps exercise solutions behind their toggles and shows
the static snapshot of each widget; in dark mode its figures keep a light background and
readable ink. Full-page screenshots go to ``_build/screenshots``, mirroring the page paths;
the chapters are also shot in dark mode, under ``_build/screenshots/dark``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import io
import itertools
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlparse

import nbformat
import pytest
import yaml
from conftest import HTML, ROOT, SCREENSHOTS
from jupyter_cache import get_cache
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, Route
from playwright.sync_api import TimeoutError as PlaywrightTimeout

# Pages Sphinx generates around the content: indices, and the search page (tested on its own).
GENERATED_PAGES = frozenset({"genindex.html", "py-modindex.html", "search.html"})
CHAPTER_DIR = "chapters"
EXERCISE_DIR = "exercises"
NOTEBOOK_DIRS = (CHAPTER_DIR, EXERCISE_DIR)
VIEWPORT = {"width": 1280, "height": 900}
# Screenshots stop at this height: the API reference runs to about 300 000 px.
MAX_SCREENSHOT_HEIGHT = 16_384
TIMEOUT_MS = 60_000

# TeX that MathJax should have consumed: display and inline delimiters, control words, $...$.
RAW_TEX = re.compile(r"\$\$|\\[()\[\]]|\\[A-Za-z]+|\$[^$\s][^$\n]*\$")
# A figure is legible in dark mode when its background stays light and its darkest ink keeps
# at least the WCAG AA contrast ratio for text against that background.
MIN_BACKGROUND_LUMINANCE = 0.4
MAX_DARK_PAGE_LUMINANCE = 0.1
MIN_INK_CONTRAST = 4.5
INK_PIXELS = 50
RING = 4

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
HIDDEN_OUTPUT_TAGS = frozenset({"remove-cell", "remove-output"})

# JavaScript run in the page. Each returns what the named check needs.
LOAD_IMAGES_JS = """async () => {
  const images = [...document.images];
  images.forEach((image) => { image.loading = "eager"; });
  await Promise.all(images.map((image) => image.decode().catch(() => null)));
  return images.filter((image) => !(image.complete && image.naturalWidth > 0))
               .map((image) => image.getAttribute("src"));
}"""
TYPESET_JS = """async () => {
  if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return false;
  await MathJax.startup.promise;
  return true;
}"""
PROSE_TEXT_JS = """() => {
  const style = document.createElement("style");
  style.textContent = "pre, code, .highlight, script, style, textarea { display: none !important; }";
  document.head.append(style);
  const text = document.body.innerText;
  style.remove();
  return text;
}"""
INSET_JS = """(element) => {
  const style = getComputedStyle(element);
  return ["left", "top", "right", "bottom"].map((side) => Math.ceil(
    parseFloat(style.getPropertyValue(`padding-${side}`)) +
    parseFloat(style.getPropertyValue(`border-${side}-width`))));
}"""
MATH_JS = """() => {
  const math = [...document.querySelectorAll(".math.notranslate")];
  return {
    math: math.length,
    untypeset: math.filter((el) => !el.querySelector("mjx-container"))
                   .map((el) => el.textContent.trim().slice(0, 80)),
    containers: document.querySelectorAll("mjx-container").length,
    errors: [...document.querySelectorAll("mjx-merror")]
              .map((el) => (el.getAttribute("data-mjx-error") || el.textContent).slice(0, 80)),
  };
}"""


def _is_redirect(path: Path) -> bool:
    """Whether an HTML file only forwards the reader elsewhere (a meta refresh)."""
    return 'http-equiv="refresh"' in path.read_text(encoding="utf-8", errors="replace")[:2000].lower()


def book_pages() -> list[str]:
    """Paths, relative to ``_build/html``, of every content page of the built book.

    Everything under a top-level ``_`` directory (static files, module sources, page
    sources), the pages Sphinx generates around the content and redirects are left out.
    """
    if not HTML.is_dir():
        return []
    pages = []
    for path in sorted(HTML.rglob("*.html")):
        relative = path.relative_to(HTML)
        if relative.parts[0].startswith("_") or relative.as_posix() in GENERATED_PAGES:
            continue
        if not _is_redirect(path):
            pages.append(relative.as_posix())
    return pages


PAGES = book_pages()


def book_config() -> dict:
    """The book's ``_config.yml``."""
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def table_of_contents() -> dict:
    """The book's ``_toc.yml``."""
    return yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the files of a directory without logging every request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        """Drop the access log."""


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """Base URL of the built book, served from ``_build/html`` on a free port of 127.0.0.1."""
    if not (HTML / "index.html").is_file():
        pytest.fail(f"{HTML / 'index.html'} is missing: run `make book` first", pytrace=False)
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Tab:
    """A page in its own browser context, with what it logged and the requests it was refused."""

    page: Page
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def record_console(self, message: ConsoleMessage) -> None:
        """Keep a console message of type error, with the place it came from."""
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"console error: {message.text}" + (f" ({where})" if where else ""))

    def record_page_error(self, error: Exception) -> None:
        """Keep an uncaught exception of the page."""
        self.errors.append(f"uncaught exception: {error}")


@pytest.fixture
def tab(browser: Browser, site: str) -> Iterator[Tab]:
    """A fresh light-scheme browser context whose requests outside the book are blocked."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    tab = Tab(page)

    def block(route: Route) -> None:
        tab.blocked.append(route.request.url)
        route.abort("blockedbyclient")

    context.route(lambda url: not url.startswith(site), block)
    page.on("console", tab.record_console)
    page.on("pageerror", tab.record_page_error)
    yield tab
    context.close()


def open_page(tab: Tab, site: str, path: str) -> None:
    """Load a page, wait for MathJax to finish and for every image (lazy ones too) to load."""
    tab.page.goto(urljoin(site, path), wait_until="load")
    tab.page.evaluate(TYPESET_JS)
    tab.page.evaluate(LOAD_IMAGES_JS)


def screenshot(page: Page, path: str, folder: Path = SCREENSHOTS) -> Path:
    """Save a screenshot of the whole page (at most ``MAX_SCREENSHOT_HEIGHT`` tall) at its path.

    The viewport is stretched to the page's height for the shot and then restored; on a very
    tall page this is many times faster than Chromium's capture beyond the viewport.
    """
    target = folder / Path(path).with_suffix(".png")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(height, MAX_SCREENSHOT_HEIGHT)})
    page.screenshot(path=target)
    page.set_viewport_size(VIEWPORT)
    return target


def image_problems(page: Page) -> list[str]:
    """The images of the page that did not load (no pixels after loading finished)."""
    return [f"image not loaded: {src}" for src in page.evaluate(LOAD_IMAGES_JS)]


def math_problems(page: Page) -> list[str]:
    """Math MathJax left untypeset, TeX errors, and raw TeX visible in the prose."""
    typeset = page.evaluate(TYPESET_JS)
    found = page.evaluate(MATH_JS)
    problems = []
    if found["math"] and not typeset:
        problems.append(f"{found['math']} math elements but MathJax did not start")
    if found["math"] and not found["containers"]:
        problems.append("the page has math but no mjx-container: MathJax rendered nothing")
    problems += [f"math not typeset: {text!r}" for text in found["untypeset"]]
    problems += [f"MathJax error: {text!r}" for text in found["errors"]]
    text = page.evaluate(PROSE_TEXT_JS)
    for match in RAW_TEX.finditer(text):
        context = text[max(match.start() - 40, 0) : match.end() + 40].replace("\n", " ")
        problems.append(f"raw TeX {match.group()!r} in the text: …{context}…")
    return problems


def notebook_path(path: str) -> str:
    """Repository path of the notebook a page was built from."""
    root = book_config().get("repository", {}).get("path_to_book", "") or ""
    return (Path(root) / Path(path).with_suffix(".ipynb")).as_posix()


def expected_launch_links(path: str) -> dict[str, str]:
    """The Binder and Colab URLs ``_config.yml`` implies for a page's notebook."""
    config = book_config()
    repository = config["repository"]
    launch = config["launch_buttons"]
    owner_repo = urlparse(repository["url"]).path.strip("/")
    branch = repository.get("branch", "main")
    notebook = notebook_path(path)
    interface = "lab/tree" if launch.get("notebook_interface") == "jupyterlab" else "tree"
    return {
        "Binder": f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{owner_repo}/{branch}"
        f"?urlpath={interface}/{notebook}",
        "Colab": f"{launch['colab_url'].rstrip('/')}/github/{owner_repo}/blob/{branch}/{notebook}",
    }


def launch_problems(page: Page, path: str) -> list[str]:
    """What is missing or wrong in the launch menu (Binder, Colab, live code) of a notebook page."""
    config = book_config()
    notebook = notebook_path(path)
    problems = []
    if not (ROOT / notebook).is_file():
        problems.append(f"the page's source notebook {notebook} is not in the repository")
    menu = page.locator(".dropdown-launch-buttons")
    if menu.count() != 1:
        return [*problems, f"expected one launch menu, found {menu.count()}"]
    menu.locator("button.dropdown-toggle").click()
    menu.locator(".dropdown-menu").wait_for(state="visible")
    for label, expected in expected_launch_links(path).items():
        link = menu.locator(".dropdown-menu a", has_text=label)
        if link.count() != 1:
            problems.append(f"launch menu: expected one {label} link, found {link.count()}")
            continue
        if not link.is_visible():
            problems.append(f"launch menu: the {label} link is not visible once the menu is open")
        if link.get_attribute("href") != expected:
            problems.append(f"launch menu: {label} points to {link.get_attribute('href')}, not {expected}")
    if config["launch_buttons"].get("thebe"):
        problems += thebe_problems(page, path)
    page.keyboard.press("Escape")
    return problems


def thebe_problems(page: Page, path: str) -> list[str]:
    """What is wrong with the live-code (Thebe) button and its configuration on a page."""
    problems = []
    button = page.locator(".dropdown-launch-buttons .btn-launch-thebe")
    if button.count() != 1 or not button.is_visible():
        return ["launch menu: no visible live-code (Thebe) button"]
    if "live code" not in button.inner_text().lower():
        problems.append(f"the Thebe button reads {button.inner_text()!r}, not 'Live Code'")
    config = page.locator('script[type="text/x-thebe-config"]')
    if config.count() != 1:
        return [*problems, f"expected one Thebe configuration, found {config.count()}"]
    text = config.text_content() or ""
    repository = book_config()["repository"]
    expected = {
        "repo": urlparse(repository["url"]).path.strip("/"),
        "ref": repository.get("branch", "main"),
        "path": f"./{Path(notebook_path(path)).parent.as_posix()}",
    }
    for key, value in expected.items():
        found = re.search(rf'\b{key}:\s*"([^"]*)"', text)
        if not found or found.group(1) != value:
            problems.append(f"Thebe configuration: {key} is {found and found.group(1)!r}, not {value!r}")
    return problems


def solution_problems(page: Page) -> list[str]:
    """Exercise solutions that show before their toggle is clicked, or stay hidden after."""
    solutions = page.locator(".admonition.dropdown")
    exercises = page.locator('section[id^="exercise-"]')
    if solutions.count() == 0:
        return ["an exercise page without a solution behind a toggle"]
    problems = []
    if solutions.count() != exercises.count():
        problems.append(f"{exercises.count()} exercises but {solutions.count()} solutions behind toggles")
    each = [solutions.nth(index) for index in range(solutions.count())]
    titles = [
        (solution.locator(":scope > .admonition-title").text_content() or "").strip() for solution in each
    ]
    bodies = [solution.locator(":scope > :not(.admonition-title)") for solution in each]
    for title, body in zip(titles, bodies, strict=True):
        if body.count() == 0:
            problems.append(f"{title!r}: the solution is empty")
        elif any(part.is_visible() for part in body.all()):
            problems.append(f"{title!r}: the solution is visible before its toggle is clicked")
    for solution in each:
        solution.locator("button.toggle-button").click()
    for title, body in zip(titles, bodies, strict=True):
        try:
            for part in body.all():
                part.wait_for(state="visible", timeout=5_000)
        except PlaywrightTimeout:
            problems.append(f"{title!r}: the solution stays hidden after its toggle is clicked")
    return problems


def executed_notebook(path: str) -> nbformat.NotebookNode:
    """The page's notebook with the outputs the build rendered, taken from the build's jupyter-cache.

    ``_build/jupyter_execute`` is no substitute: a build that takes a notebook from the cache
    writes it there without its outputs.
    """
    cache_dir = HTML.parent / ".jupyter_cache"
    if not cache_dir.is_dir():
        raise ValueError(f"no jupyter-cache at {cache_dir}: build the book with `make book`")
    source = nbformat.read(ROOT / notebook_path(path), as_version=4)
    cache = get_cache(str(cache_dir))
    try:
        return cache.merge_match_into_notebook(source)[1]
    except KeyError:
        raise ValueError(
            f"{notebook_path(path)} has no execution in the build's cache: it changed after the "
            "book was built, run `make book`"
        ) from None


def widget_snapshots(path: str) -> list[tuple[str, str]]:
    """(model id, image file name) of each widget output the page shows as a PNG snapshot.

    An output that carries both a widget view and a PNG is shown by its PNG (the book ranks
    the widget view after static images), which MyST-NB names by the SHA-256 of its bytes.
    Outputs of cells tagged to be removed are not shown and not listed.
    """
    snapshots = []
    for cell in executed_notebook(path).cells:
        if cell.cell_type != "code" or HIDDEN_OUTPUT_TAGS & set(cell.metadata.get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "image/png" in data:
                digest = hashlib.sha256(base64.b64decode(data["image/png"])).hexdigest()
                snapshots.append((data[WIDGET_VIEW]["model_id"], f"{digest}.png"))
    return snapshots


def widget_problems(page: Page, path: str) -> list[str]:
    """Widget outputs whose static snapshot is missing, hidden or not loaded on the page."""
    try:
        snapshots = widget_snapshots(path)
    except ValueError as error:
        return [str(error)]
    problems = []
    for model_id, name in snapshots:
        image = page.locator(f'img[src$="_images/{name}"]')
        if image.count() != 1:
            problems.append(f"widget {model_id}: expected its snapshot {name} once, found {image.count()}")
            continue
        image.scroll_into_view_if_needed()
        if not image.is_visible():
            problems.append(f"widget {model_id}: the snapshot {name} is not visible")
        if image.evaluate("(image) => image.naturalWidth") == 0:
            problems.append(f"widget {model_id}: the snapshot {name} did not load")
        if page.locator(f'script[type="{WIDGET_VIEW}"]', has_text=model_id).count():
            problems.append(f"widget {model_id}: rendered as a live widget instead of its snapshot")
    return problems


def console_problems(tab: Tab) -> list[str]:
    """JavaScript errors the page logged and requests it made outside the book."""
    return [*tab.errors, *(f"request outside the book: {url}" for url in tab.blocked)]


def report(path: str, problems: list[str]) -> str:
    """One failure message listing every problem found on a page."""
    return f"{path}: {len(problems)} problem(s)\n  " + "\n  ".join(problems)


def test_index_redirects_to_root_page(tab: Tab, site: str) -> None:
    """``index.html`` forwards the reader to the book's root page."""
    root = f"{table_of_contents()['root']}.html"
    tab.page.goto(urljoin(site, "index.html"))
    tab.page.wait_for_url(urljoin(site, root))
    assert tab.page.url == urljoin(site, root)


def statistical_mechanics_chapters() -> set[str]:
    """Chapter pages of the table of contents' part about statistical mechanics."""
    parts = [
        part for part in table_of_contents()["parts"] if "statistical mechanics" in part["caption"].lower()
    ]
    assert parts, "_toc.yml has no part about statistical mechanics"
    files = [entry["file"] for part in parts for entry in part["chapters"]]
    return {f"{file}.html" for file in files if Path(file).parts[0] == CHAPTER_DIR}


def test_search_finds_partition_function(tab: Tab, site: str) -> None:
    """The search page finds "partition function", in a statistical-mechanics chapter among others."""
    tab.page.goto(urljoin(site, "search.html?q=partition+function"))
    tab.page.wait_for_function(
        "() => document.querySelector('#search-results h2')?.innerText === 'Search Results'"
    )
    links = tab.page.locator("#search-results ul.search li a")
    found = {
        urlparse(urljoin(site, href)).path.lstrip("/")
        for href in links.evaluate_all("(links) => links.map((link) => link.getAttribute('href'))")
    }
    screenshot(tab.page, "search.html")
    assert found, "searching 'partition function' found nothing"
    assert found & statistical_mechanics_chapters(), (
        f"no statistical-mechanics chapter among the results: {found}"
    )
    assert not console_problems(tab), report("search.html", console_problems(tab))


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance of an sRGB colour with 8-bit channels (0 black, 1 white)."""
    linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _colour_counts(image: Image.Image) -> Counter[tuple[int, int, int]]:
    """How many pixels of an RGB image have each colour."""
    return Counter({colour: count for count, colour in image.getcolors(image.width * image.height)})


def legibility(png: bytes, inset: tuple[int, int, int, int]) -> tuple[float, float]:
    """(background luminance, ink contrast ratio) of a figure as the page renders it.

    ``inset`` is the (left, top, right, bottom) padding plus border of the ``img`` element,
    cut away first. The background is the most frequent colour of the figure's outer ring,
    ``RING`` pixels wide, where titles, tick labels and legends sit (the plot area inside may
    be a dark colour map); the ink is the darkest luminance that at least ``INK_PIXELS``
    pixels of the figure reach (a few stray pixels are not text); the ratio is the WCAG
    contrast ``(L_bg + 0.05) / (L_ink + 0.05)``.
    """
    left, top, right, bottom = inset
    image = Image.open(io.BytesIO(png)).convert("RGB")
    figure = image.crop((left, top, image.width - right, image.height - bottom))
    counts = _colour_counts(figure)
    ring = counts - _colour_counts(figure.crop((RING, RING, figure.width - RING, figure.height - RING)))
    background = relative_luminance(ring.most_common(1)[0][0])
    ranked = sorted((relative_luminance(colour), n) for colour, n in counts.items())
    cumulative = itertools.accumulate(n for _, n in ranked)
    ink = next(value for (value, _), seen in zip(ranked, cumulative, strict=True) if seen >= INK_PIXELS)
    return background, (background + 0.05) / (ink + 0.05)


def switch_to_dark(page: Page) -> str:
    """Click the theme switch until the page is dark; return the theme it ends in."""
    switch = page.locator(".theme-switch-button").filter(visible=True).first
    for _ in range(3):
        if page.evaluate("() => document.documentElement.dataset.theme") == "dark":
            break
        switch.click()
    return page.evaluate("() => document.documentElement.dataset.theme")


def dark_mode_problems(page: Page, path: str) -> list[str]:
    """Figures that lose their light background or readable ink once the page is switched to dark.

    Each figure is judged as rendered (theme styles and filters included). Chapters are also
    saved dark under ``_build/screenshots/dark``. Pages without figures stay in light mode.
    """
    figures = page.locator(".bd-article img[src*='_images/']")
    if figures.count() == 0:
        return []
    if switch_to_dark(page) != "dark":
        return ["the theme switch did not turn the page dark"]
    problems = []
    body = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    if relative_luminance(tuple(int(c) for c in re.findall(r"\d+", body)[:3])) > MAX_DARK_PAGE_LUMINANCE:
        problems.append(f"dark mode left the page background at {body}")
    for index in range(figures.count()):
        figure = figures.nth(index)
        figure.scroll_into_view_if_needed()
        inset = figure.evaluate(INSET_JS)
        background, contrast = legibility(figure.screenshot(), inset)
        name = Path(figure.get_attribute("src") or "").name
        if background < MIN_BACKGROUND_LUMINANCE:
            problems.append(
                f"dark mode: figure {name} sits on a dark background (luminance {background:.2f})"
            )
        if contrast < MIN_INK_CONTRAST:
            problems.append(f"dark mode: figure {name} has ink contrast {contrast:.1f}:1 only")
    if Path(path).parts[0] == CHAPTER_DIR:
        screenshot(page, path, SCREENSHOTS / "dark")
    return problems


@pytest.mark.parametrize("path", PAGES or ["index.html"])
def test_page(tab: Tab, site: str, path: str) -> None:
    """A content page loads cleanly, typesets its math, loads its images and works as its kind must.

    Every problem found on the page is collected, so that one failure lists them all.
    """
    open_page(tab, site, path)
    shot = screenshot(tab.page, path)
    assert shot.stat().st_size > 0
    problems = image_problems(tab.page)
    if Path(path).parts[0] in NOTEBOOK_DIRS:
        problems += launch_problems(tab.page, path)
        problems += widget_problems(tab.page, path)
    if Path(path).parts[0] == EXERCISE_DIR:
        problems += solution_problems(tab.page)
    problems += math_problems(tab.page)
    problems += dark_mode_problems(tab.page, path)
    problems += console_problems(tab)
    assert not problems, report(path, problems)
