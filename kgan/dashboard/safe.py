r"""Text from run folders, made safe for the Streamlit calls that render Markdown.

`st.markdown`, `st.title`/`header`/`subheader`, `st.caption`, `st.info`/`warning`/`error`,
`st.image(caption=...)`, `st.metric` labels and values and widget labels all interpret GitHub
Markdown plus Streamlit's directives (`:red[...]`, `:color[...]{...}`, `:material/icon:`,
emoji shortcodes) and KaTeX (`$...$`). A run folder can come from anyone, so every string read
from one (dataset, reason, health warnings, metric and class names, errors, broken folder
names) goes through `escape` first; otherwise `![x](http://host/a.png)` in a failure reason
makes the viewer's browser fetch a URL of the folder author's choosing.

Example:
    >>> escape("![x](http://evil/a.png) :red[hi]")
    '\\!\\[x\\]\\(http\\:\\/\\/evil\\/a\\.png\\) \\:red\\[hi\\]'
"""

from __future__ import annotations

import re
import string

#: CommonMark renders a backslash-escaped ASCII punctuation character as that character.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def escape(value: object) -> str:
    """`value` as Markdown that renders as its literal text on one line (no links, images,
    HTML, emphasis, math or Streamlit directives).

    Every ASCII punctuation character is backslash-escaped (that covers `[`, `]`, `(`, `)`,
    `!`, `<`, `>`, `*`, `_`, `#`, backticks, `|`, `~`, `$`, `:`, and the `.`, `/` and `@` of
    autolinked URLs and e-mail addresses); line breaks become spaces, so the text cannot start a
    heading, list, quote or code block.
    """
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(value).split()))


def code(value: object) -> str:
    """`value` as an inline code span (shown verbatim in a monospace font), e.g. a path."""
    text = " ".join(str(value).splitlines())
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


__all__ = ["code", "escape"]
