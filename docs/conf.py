# Sphinx configuration of the Postern documentation. It needs only Debian
# 12's python3-sphinx (Sphinx 5.3) and its built-in alabaster theme.
import pathlib
import re

project = "Postern"
author = "The Postern authors"
copyright = "The Postern authors"

# The version comes from project() in the top CMakeLists.txt, so the
# documentation never names a release that the build does not.
_cmake = pathlib.Path(__file__).resolve().parent.parent / "CMakeLists.txt"
_match = re.search(r"project\(postern VERSION ([0-9.]+)",
                   _cmake.read_text(encoding="utf-8"))
release = _match.group(1) if _match else "unknown"
version = release

root_doc = "index"
language = "en"
extensions = []
exclude_patterns = ["_build"]

# Literal blocks without a language are shown as they are, not lexed as
# Python.
highlight_language = "none"

html_theme = "alabaster"
html_theme_options = {
    "description": "SMTP and POP3 server policies for C++20",
    "fixed_sidebar": False,
    "page_width": "1100px",
}
html_title = f"Postern {release}"
html_show_sourcelink = False
