"""Where a secret can hide in a server's string, as a table and as a hypothesis strategy.

Shared by the masking tests (`test_redact_properties`) and the whole-session scan
(`test_secret_scan`): each entry places a marker secret in a URL-bearing value the way a server
or a user could, as an ``auth_key``-like query value, a userinfo password, nested in another URL
(plain or percent-encoded, once or more), inside JSON text, inside prose.
"""

from __future__ import annotations

import json
import string
from urllib.parse import quote

from hypothesis import strategies as st

#: Parameter names whose values are secrets, as servers and CDNs spell them.
SECRET_PARAM_NAMES = (
    "auth_key",
    "AUTH_KEY",
    "Auth-Key",
    "auth%5Fkey",
    "authKey",
    "token",
    "access_token",
    "txSecret",
    "wsSecret",
    "sign",
    "Signature",
    "password",
    "SecurityToken",
    "key",
    "api_key",
)
#: Parameter names that are not secrets (their values must stay readable).
PLAIN_PARAM_NAMES = ("a", "vhost", "txTime", "format", "next", "SignatureMethod", "expires")


def placements(marker: str) -> dict[str, str]:
    """Values that each hold ``marker`` as a secret, by where it hides."""
    nested = f"http://h.example/s?x=1&auth_key={marker}&y=2"
    return {
        "query": f"rtmp://live.example.com/app/stream?auth_key={marker}",
        "query middle": f"http://h.example/s?a=1&auth_key={marker}&b=2",
        "query token": f"https://cb.example/hook?token={marker}",
        "query txSecret": f"rtmp://push.example/live/s?txSecret={marker}&txTime=5F",
        "fragment": f"http://h.example/s#auth_key={marker}",
        "path parameter": f"http://h.example/s;auth_key={marker}?x=1",
        "userinfo": f"rtmp://user:{marker}@host.example/app/stream",
        "userinfo no user": f"rtmp://:{marker}@host.example/app",
        "userinfo with @": f"rtmp://user:pw@{marker}@host.example/app",
        "upper-case scheme": f"RTMP://USER:{marker}@HOST.EXAMPLE:1935/APP?AUTH_KEY={marker}",
        "encoded nested": "http://cb.example/?next=" + quote(nested, safe=""),
        "double encoded": "http://cb.example/?next=" + quote(quote(nested, safe=""), safe=""),
        "encoded userinfo": "http://cb.example/?next="
        + quote(f"rtmp://u:{marker}@h.example/a", safe=""),
        "plain nested": f"http://cb.example/?next=http://u:{marker}@h2.example/?auth_key={marker}",
        "json in a string": json.dumps({"url": f"rtmp://u:{marker}@h.example/a", "n": 1}),
        "escaped json": json.dumps(f"http://u:{marker}@h.example/a").replace("/", "\\/"),
        "url in prose": f"pulled from rtmp://u:{marker}@h.example/a?auth_key={marker} at 5",
        "protocol-relative": f"//u:{marker}@h.example/a",
    }


#: Markers: a fixed upper-case start that no generated host, path or plain value contains.
markers = st.text(string.ascii_letters + string.digits + "-_.~", min_size=6, max_size=24).map(
    lambda tail: "Zq9" + tail
)
_words = st.text(string.ascii_lowercase, min_size=1, max_size=8)
_plain_params = st.lists(
    st.tuples(st.sampled_from(PLAIN_PARAM_NAMES), st.text(string.ascii_lowercase + "0123456789")),
    max_size=3,
)


def _casing(name: str, upper: list[bool]) -> str:
    if "%" in name:
        return name
    return "".join(
        c.upper() if u else c for c, u in zip(name, upper + [False] * len(name), strict=False)
    )


@st.composite
def secret_urls(draw: st.DrawFn, marker: str) -> str:
    """A random URL with ``marker`` as a secret somewhere, nested in 0 to 3 other URLs."""
    scheme = draw(st.sampled_from(("rtmp", "http", "https", "artc", "RTMP", "srt")))
    host = draw(_words) + ".example"
    path = "/".join(draw(st.lists(_words, max_size=3)))
    params = [f"{name}={value}" for name, value in draw(_plain_params)]
    where = draw(st.sampled_from(("query", "userinfo", "fragment")))
    userinfo = ""
    fragment = ""
    if where == "userinfo":
        userinfo = draw(st.sampled_from(("", "user", "op"))) + ":" + marker + "@"
    else:
        name = draw(st.sampled_from(SECRET_PARAM_NAMES))
        name = _casing(name, draw(st.lists(st.booleans(), max_size=12)))
        pair = f"{name}={marker}"
        if where == "query":
            params.insert(draw(st.integers(0, len(params))), pair)
        else:
            fragment = "#" + pair
    url = f"{scheme}://{userinfo}{host}/{path}"
    if params:
        url += "?" + "&".join(params)
    url += fragment
    for _ in range(draw(st.integers(0, 3))):
        outer = draw(_words) + ".example"
        url = f"https://{outer}/cb?next=" + quote(url, safe="")
    return url
